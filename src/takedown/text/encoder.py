"""The slot for a multilingual sentence encoder (translations beyond anchors).

No multilingual sentence encoder ships inside a PyPI wheel, and Takedown never downloads a
model at run time. An operator who has a model on disk plugs it in here; the built-in loader
reads *static embedding* models in the model2vec layout (a directory holding
``tokenizer.json`` for the ``tokenizers`` library, ``model.safetensors`` with an
``embeddings`` matrix of one row per token id), e.g. a locally copied
``potion-multilingual-128M``. A text's vector is the mean of its tokens' rows, L2-normalised.

The simple way: the setting ``TAKEDOWN_TEXT_ENCODER_PATH`` names the model's folder, and the
built-in plugin registers it as the ``text_encoder`` signal type
(:func:`configured_encoder_types`); ``takedown.text.relation`` then uses its vectors to judge
translations in matching, clusters and bank lookups. A plugin may instead register a signal
type made by :func:`encoder_signal_type` under another name; other encoder families implement
:class:`SentenceEncoder` and pass an instance to :func:`encoder_signal_type`.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from takedown.signals.base import InvalidSignal, SignalType, SignalValue, UnhashableContent
from takedown.text.decode import NotText, read_text
from takedown.text.spin import sentences

if TYPE_CHECKING:
    from takedown.text.candidates import EncoderSet

PREFIX = "emb1:"
MAX_DIM = 1024
#: Name of the signal type the setting registers.
CONFIGURED_TYPE = "text_encoder"


class EncoderError(RuntimeError):
    """A model directory that cannot be loaded."""


class SentenceEncoder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(texts), dim) unit vectors (zero rows for texts without known tokens)."""
        ...


@dataclass
class StaticEncoder:
    """A static-embedding model (model2vec layout) loaded from a local directory."""

    name: str
    tokenizer: object
    embeddings: npt.NDArray[np.float32]

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> StaticEncoder:
        folder = Path(path)
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - installed with wordllama
            raise EncoderError(f"tokenizers/safetensors missing: {exc}") from exc
        if (
            not (folder / "tokenizer.json").is_file()
            or not (folder / "model.safetensors").is_file()
        ):
            raise EncoderError(f"{folder}: needs tokenizer.json and model.safetensors")
        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tensors = load_file(str(folder / "model.safetensors"))
        except Exception as exc:
            raise EncoderError(f"{folder}: cannot load model: {exc}") from exc
        matrix = tensors.get("embeddings")
        if matrix is None or matrix.ndim != 2 or not 0 < matrix.shape[1] <= MAX_DIM:
            raise EncoderError(f"{folder}: model.safetensors needs a 2-D 'embeddings' tensor")
        if matrix.shape[0] < tokenizer.get_vocab_size():
            raise EncoderError(f"{folder}: fewer embedding rows than tokens in the vocabulary")
        return cls(name or folder.name, tokenizer, np.asarray(matrix, dtype=np.float32))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)  # type: ignore[attr-defined]
        for row, encoding in enumerate(encodings):
            ids = [i for i in encoding.ids if 0 <= i < self.embeddings.shape[0]]
            if ids:
                vec = self.embeddings[ids].mean(axis=0)
                norm = float(np.linalg.norm(vec))
                out[row] = vec / norm if norm > 0 else 0.0
        return out


@cache
def load_static(path: str) -> StaticEncoder:
    """A static encoder, loaded once per process and path."""
    return StaticEncoder.load(path)


def serialise(vector: npt.NDArray[np.float32]) -> str:
    q = np.clip(np.round(vector * 127.0), -127, 127).astype(np.int8)
    return PREFIX + base64.urlsafe_b64encode(q.tobytes()).decode("ascii")


def parse(value: str) -> npt.NDArray[np.float32]:
    text = value.strip()
    if not text.startswith(PREFIX):
        raise ValueError(f"embedding value must start with {PREFIX!r}")
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"embedding value is not valid base64: {exc}") from exc
    if not 0 < len(raw) <= MAX_DIM:
        raise ValueError("embedding value has the wrong length")
    vec = np.frombuffer(raw, dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


class EncoderSignal(SignalType):
    """Base of encoder signal types: mean of sentence vectors; distance = 100 x (1 - cos)."""

    content_kinds = frozenset({"text"})
    default_threshold = 20
    max_threshold = 100
    index_kind = "pairwise"
    #: Set by :func:`encoder_signal_type`.
    encoder_path: ClassVar[str] = ""
    encoder: ClassVar[SentenceEncoder | None] = None

    def _encoder(self) -> SentenceEncoder:
        if self.encoder is not None:
            return self.encoder
        try:
            return load_static(self.encoder_path)
        except EncoderError as exc:
            raise UnhashableContent(f"{self.name}: encoder not available: {exc}") from exc

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        parts = sentences(text) or [text]
        vectors = self._encoder().encode(parts[:256])
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        if norm == 0:
            raise UnhashableContent(f"{self.name}: no token of this text is known to the model")
        unit: npt.NDArray[np.float32] = (mean / norm).astype(np.float32)
        return unit

    def candidate_set(
        self, ids: Sequence[int], values: Sequence[str], owners: Sequence[int]
    ) -> EncoderSet:
        """All stored vectors in one matrix, compared with a query in one product."""
        from takedown.text.candidates import EncoderSet

        return EncoderSet(ids, values, owners)

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        try:
            decoded = read_text(stream)
        except NotText as exc:
            raise UnhashableContent(str(exc)) from exc
        return [SignalValue(self.name, serialise(self.embed(decoded.text)))]

    def validate(self, value: str) -> str:
        try:
            return serialise(parse(value))
        except ValueError as exc:
            raise InvalidSignal(f"{self.name}: {exc}") from exc

    def distance(self, a: str, b: str) -> int:
        va, vb = parse(self.validate(a)), parse(self.validate(b))
        if va.shape != vb.shape:
            return 100
        return round(max(0.0, min(1.0, 1.0 - float(va @ vb))) * 100)

    @classmethod
    def examples(cls) -> Sequence[tuple[str, str, bool]]:
        one = np.zeros(8, dtype=np.float32)
        one[0] = 1.0
        other = np.zeros(8, dtype=np.float32)
        other[1] = 1.0
        return [(serialise(one), serialise(one), True), (serialise(one), serialise(other), False)]


def encoder_signal_type(
    name: str, *, path: str | Path | None = None, encoder: SentenceEncoder | None = None
) -> type[EncoderSignal]:
    """A signal type class for a local encoder (a model directory or an encoder object)."""
    if (path is None) == (encoder is None):
        raise ValueError("give exactly one of path= or encoder=")
    attrs = {
        "name": name,
        "encoder_path": str(path) if path is not None else "",
        "encoder": encoder,
        "__doc__": f"Multilingual sentence-encoder signal {name!r}.",
    }
    return type(f"EncoderSignal_{name}", (EncoderSignal,), attrs)


def configured_encoder_types() -> list[type[EncoderSignal]]:
    """The ``text_encoder`` signal type when the setting ``TAKEDOWN_TEXT_ENCODER_PATH`` names
    a model folder (read from the environment when the plugins are asked); none otherwise.
    The model is loaded on first use, from that folder only."""
    import os

    # The setting comes from the environment only (no settings file): read it through
    # Settings once per value of the variable, not on every call (the plugins are asked for
    # their types on every lookup, and building Settings cost more than the lookup).
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.lower() == _ENV_NAME))
    return list(_encoder_types_for(key))


_ENV_NAME = "takedown_text_encoder_path"


@functools.lru_cache(maxsize=8)
def _encoder_types_for(
    _environment: tuple[tuple[str, str], ...],
) -> tuple[type[EncoderSignal], ...]:
    from takedown.config import Settings

    path = Settings().text_encoder_path
    if path is None:
        return ()
    return (encoder_signal_type(CONFIGURED_TYPE, path=path),)
