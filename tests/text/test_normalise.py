from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.text.normalise import analyse, normalise, paragraphs

CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def test_case_width_and_compatibility_forms_fold() -> None:
    assert normalise("HELLO  Ｗｏｒｌｄ ﬁ ①") == "hello world fi 1"
    assert normalise("Straße") == normalise("STRASSE")


def test_arabic_diacritics_tatweel_letter_variants_and_digits() -> None:
    assert normalise("أَلسَّلامُ عَلَيْكُمْ") == "السلام عليكم"
    assert normalise("مـــرحبا") == "مرحبا"
    assert normalise("إسلام آمن") == normalise("اسلام امن")
    assert normalise("یک") == normalise("يك")  # farsi yeh and keheh
    assert normalise("مدرسة") == normalise("مدرسه")  # teh marbuta
    assert normalise("١٢٣ ۴۵۶ ٣٫٥") == "123 456 3.5"


def test_invisible_and_bidi_controls_are_removed() -> None:
    assert normalise("pa\u200by\u200dpal\u2060") == "paypal"
    assert normalise("\u202eevil\u202c \u2066ok\u2069") == "evil ok"
    assert normalise("\ufeffbom") == "bom"


def test_zalgo_marks_are_removed_but_real_accents_kept() -> None:
    assert normalise("Z\u0338\u0321\u031ba\u0337l\u0334g\u0335o\u0336") == "zalgo"
    assert normalise("café") == normalise("cafe\u0301") == "café"


def test_confusables_fold_only_inside_mixed_script_words() -> None:
    assert normalise("pаypal") == "paypal"  # Cyrillic а in a Latin word
    assert normalise("сoбака") == "собака"  # Latin o in a Cyrillic word
    assert normalise("рор") == "рор"  # all Cyrillic: a real word, untouched


def test_paragraph_hashes() -> None:
    norm = analyse("First  para\nline two\n\n\nSecond para")
    assert norm.text == "first para line two\n\nsecond para"
    assert paragraphs(norm.text) == ["first para line two", "second para"]
    assert len(norm.paragraph_sha256) == 2
    assert analyse("second   PARA").sha256 == norm.paragraph_sha256[1]


def test_marks_for_texts_with_nothing_to_match() -> None:
    assert analyse("\u200b\u200e\u2066").marks[0].startswith("empty")
    assert "no words" in analyse("🙂🙂 !!").marks[0]
    assert analyse("hello").marks == []


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_never_crashes_and_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert isinstance(analyse(text).sha256, str)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(CYRILLIC + CYRILLIC.upper() + " "), max_size=80))
def test_real_cyrillic_text_is_untouched(text: str) -> None:
    expected = " ".join(unicodedata.normalize("NFC", text.lower()).split())
    expected = expected.replace("й", "й").replace("ё", "ё")
    assert normalise(text) == expected
    assert all(ch == " " or "CYRILLIC" in unicodedata.name(ch) for ch in normalise(text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_inserted_invisibles_do_not_change_the_result(text: str) -> None:
    spiked = "\u200b".join(text)
    assert normalise(spiked) == normalise(text.replace("\u200b", ""))


MIXED = "aoepcxyABOPSаоерсхуАВОРСابتثجحخدذرسشصضطظعغفقكلمنهويٮ٠١٢٣ـًٌٍ \u200b\u200d\u202e0123456789"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(MIXED), max_size=40))
def test_mixed_script_folding_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


def test_confusables_never_fold_into_digits() -> None:
    # "O" beside an Arabic letter must not become the Arabic-Indic digit five (then "5")
    assert normalise(normalise("Oٮ")) == normalise("Oٮ")
