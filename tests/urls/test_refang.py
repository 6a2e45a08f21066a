from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.urls import canonicalize, extract_urls, refang


@pytest.mark.parametrize(
    ("defanged", "expected"),
    [
        ("hxxps://example[.]org/a", "https://example.org/a"),
        ("hXXp://bad(.)site{.}net", "http://bad.site.net"),
        ("hxxp[s]://example[dot]org", "https://example.org"),
        ("h**ps://example(dot)org", "https://example.org"),
        ("https[:]//example[.]org", "https://example.org"),
        ("http[://]example[.]org", "http://example.org"),
        ("https://example.org[/]path", "https://example.org/path"),
        ("fxp://files[.]example[.]org", "ftp://files.example.org"),
        ("example\\.org", "example.org"),
        ("abuse[at]example[.]org", "abuse@example.org"),
        ("hxxps://example dot org/x", "https://example.org/x"),
        ("www dot example dot org", "www.example.org"),
        ("example dot org/x", "example.org/x"),
    ],
)
def test_refang_undoes_common_defanging(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


def test_refang_leaves_dot_in_prose_alone() -> None:
    assert refang("put a dot here") == "put a dot here"
    assert refang("plain text") == "plain text"


def test_extract_urls_finds_schemes_bare_links_and_defanged_urls() -> None:
    text = (
        "New release: hxxps://justpaste[.]it/abc1, mirror https://files.fm/u/xyz; "
        "channel t.me/foo/12 and www.example.org/page. Also tg://resolve?domain=chan"
    )
    assert extract_urls(text) == [
        "https://justpaste.it/abc1",
        "https://files.fm/u/xyz",
        "t.me/foo/12",
        "www.example.org/page",
        "tg://resolve?domain=chan",
    ]


def test_extract_urls_trims_punctuation_and_unbalanced_brackets() -> None:
    text = "(see https://a.org/x_(y)). [https://b.org/z] «https://c.org/w»! **https://d.org/v**"
    assert extract_urls(text) == [
        "https://a.org/x_(y)",
        "https://b.org/z",
        "https://c.org/w",
        "https://d.org/v",
    ]


def test_extract_urls_in_arabic_text() -> None:
    text = "راجع hxxps://justpaste[.]it/abc، وقناة t.me/foo/12؟ الرابط:https://a.org/xقناة"
    assert extract_urls(text) == ["https://justpaste.it/abc", "t.me/foo/12", "https://a.org/x"]


def test_extract_urls_keeps_rtl_path_segments() -> None:
    url = "https://ar.wikipedia.org/wiki/قناة_السويس"
    assert extract_urls(f"\u202b{url}\u202c") == [url]


def test_extract_urls_ignores_email_addresses_and_file_names() -> None:
    assert extract_urls("mail abuse@example.org about notes.txt") == []


def test_extract_urls_removes_duplicates_and_honours_the_limit() -> None:
    text = " ".join(f"https://example.org/{i} https://example.org/{i}" for i in range(10))
    assert len(extract_urls(text)) == 10
    assert extract_urls(text, limit=3) == [f"https://example.org/{i}" for i in range(3)]
    assert extract_urls(text, limit=0) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_refang_and_extract_never_crash(text: str) -> None:
    refang(text)
    for url in extract_urls(text):
        assert url and not any(c.isspace() for c in url)


SIMPLE_URL = st.from_regex(
    r"https://[a-z]{2,10}\.(org|com|ru)/[a-z0-9_/-]{1,20}[a-z0-9]", fullmatch=True
)
SURROUNDING = st.text(alphabet=" \n,.;:!?()«»،؛؟ابتثجحخ日本abc", max_size=20)


@settings(max_examples=300, deadline=None)
@given(SURROUNDING, SIMPLE_URL, SURROUNDING)
def test_a_url_between_separators_is_found_whole(before: str, url: str, after: str) -> None:
    text = f"{before} {url} {after}"
    assert url in extract_urls(text)


@settings(max_examples=200, deadline=None)
@given(SIMPLE_URL)
def test_defanged_urls_extract_to_their_canonical_form(url: str) -> None:
    defanged = url.replace("https", "hxxps").replace(".", "[.]")
    (found,) = extract_urls(f"link: {defanged}")
    assert canonicalize(found).url == canonicalize(url).url
