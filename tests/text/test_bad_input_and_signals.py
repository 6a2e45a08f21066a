from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from takedown.plugins import signal_types
from takedown.signals.base import InvalidSignal, UnhashableContent
from takedown.text.decode import NotText, decode_bytes, read_text
from takedown.text.encoder import (
    EncoderError,
    StaticEncoder,
    encoder_signal_type,
)
from takedown.text.signals import TEXT_SIGNAL_TYPES
from tests.signals.contract import check_signal_type
from tests.text.models import tiny_model

TYPES = {cls.name: cls() for cls in TEXT_SIGNAL_TYPES}
STATEMENT = (
    "Heavy rain caused the river to flood Valdoria on 2026-04-12. Rescue teams evacuated "
    "1,240 families. Mayor Lena Varga said that 300 volunteers are helping."
)


def hash_all(data: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, signal in TYPES.items():
        try:
            out[name] = signal.hash_stream(io.BytesIO(data))
        except UnhashableContent as exc:
            out[name] = exc
    return out


def test_text_types_are_registered_through_the_plugin_hook() -> None:
    assert set(TYPES) <= set(signal_types())


def test_decode_boms_mixed_encodings_and_binary() -> None:
    assert decode_bytes("\ufeffhé".encode("utf-8")).text == "hé"
    assert decode_bytes("hé".encode("utf-16")).text == "hé"
    mixed = "première ligne\n".encode() + "вторая строка".encode("cp1251")
    decoded = decode_bytes(mixed)
    assert decoded.text == "première ligne\nвторая строка"
    assert decoded.encoding == "mixed" and "cp1251" in decoded.marks[0]
    assert decode_bytes("مرحبا بالعالم".encode("cp1256")).text == "مرحبا بالعالم"
    with pytest.raises(NotText):
        decode_bytes(b"\x00\x01\x02binary\x00" * 100)


def test_enormous_text_is_marked_and_truncated_not_lost() -> None:
    data = (STATEMENT + "\n").encode() * 60_000  # ~9 MB
    decoded = read_text(io.BytesIO(data), max_bytes=1_000_000)
    assert decoded.truncated and "enormous" in decoded.marks[0]
    values = TYPES["text_minhash"].hash_stream(io.BytesIO(data))
    assert values[0].low_quality and "enormous" in values[0].meta["marks"]


def test_emoji_only_invisible_only_bidi_and_zalgo() -> None:
    emoji = hash_all("🙂🌊🙏".encode())
    assert not isinstance(emoji["text_exact"], Exception)  # exact still links the same emoji
    assert "no words" in str(emoji["text_minhash"])
    invisible = hash_all("\u200b\u200d\u2066\u202e".encode())
    assert all(
        isinstance(v, UnhashableContent) for k, v in invisible.items() if k != "text_anchors"
    )
    assert "invisible" in str(invisible["text_exact"])
    plain = hash_all(STATEMENT.encode())
    tricked = hash_all(("\u202e" + STATEMENT.replace("a", "a\u0336\u0321")).encode())
    for name in ("text_exact", "text_minhash"):
        assert plain[name][0].value == tricked[name][0].value  # type: ignore[index]
    assert plain["text_exact"][0].meta["lang"] == "en"  # type: ignore[index]


def test_binary_data_is_unhashable_with_a_reason() -> None:
    with pytest.raises(UnhashableContent, match="binary"):
        TYPES["text_minhash"].hash_stream(io.BytesIO(b"\x00\xff" * 5000))


def test_paragraph_variants_link_a_quoted_statement() -> None:
    newsletter = ("Weekly digest\n\n" + STATEMENT + "\n\nMore news next week.").encode()
    values = TYPES["text_exact"].hash_stream(io.BytesIO(newsletter))
    alone = TYPES["text_exact"].hash_stream(io.BytesIO(STATEMENT.upper().encode()))
    assert alone[0].value in {v.value for v in values if v.variant}


def test_text_signal_distances() -> None:
    spun = (
        "Torrential downpour led the stream to swamp Valdoria upon 2026-04-12. Emergency crews "
        "relocated 1,240 households. Town leader Lena Varga stated that 300 helpers are assisting."
    )
    french = (
        "De fortes pluies ont inondé Valdoria le 12/04/2026. Les secours ont évacué 1 240 "
        "familles. La maire Lena Varga a déclaré que 300 bénévoles aident."
    )
    a = {k: v[0].value for k, v in hash_all(STATEMENT.encode()).items()}  # type: ignore[index]
    s = {k: v[0].value for k, v in hash_all(spun.encode()).items()}  # type: ignore[index]
    f = {k: v[0].value for k, v in hash_all(french.encode()).items()}  # type: ignore[index]
    assert not TYPES["text_minhash"].matches(a["text_minhash"], s["text_minhash"])
    assert TYPES["text_spin"].matches(a["text_spin"], s["text_spin"])
    assert TYPES["text_anchors"].matches(a["text_anchors"], f["text_anchors"])
    with pytest.raises(InvalidSignal):
        TYPES["text_spin"].validate(a["text_anchors"])


def test_encoder_slot_loads_a_local_model_and_links_translations(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "tiny")
    encoder = StaticEncoder.load(model)
    assert encoder.dim == 16
    cls = encoder_signal_type("tiny_encoder", path=model)
    signal = cls()
    check_signal_type(signal)
    en = signal.hash_stream(io.BytesIO(b"river flood families"))[0].value
    fr = signal.hash_stream(io.BytesIO(b"fleuve crue familles"))[0].value
    other = signal.hash_stream(io.BytesIO(b"market prices weather"))[0].value
    assert signal.matches(en, fr) and not signal.matches(en, other)
    with pytest.raises(UnhashableContent, match="no token"):
        signal.hash_stream(io.BytesIO(b"zzz unknown"))
    (tmp_path / "broken").mkdir()
    with pytest.raises(EncoderError):
        StaticEncoder.load(tmp_path / "broken")
    (tmp_path / "broken" / "tokenizer.json").write_text("{", encoding="utf-8")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"nope")
    with pytest.raises(EncoderError):
        StaticEncoder.load(tmp_path / "broken")
    missing = encoder_signal_type("missing_encoder", path=tmp_path / "nowhere")()
    with pytest.raises(UnhashableContent, match="not available"):
        missing.hash_stream(io.BytesIO(b"river"))
    json.dumps(en)
