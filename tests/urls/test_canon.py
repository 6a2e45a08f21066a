from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takedown.urls import InvalidURL, PlatformRegistry, canonicalize, extract_urls, refang


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://WWW.YouTube.com:443/watch?v=abcdefghijk&utm_source=x#t=1",
            "https://www.youtube.com/watch?v=abcdefghijk",
        ),
        ("youtu.be/abcdefghijk?si=zz", "https://www.youtube.com/watch?v=abcdefghijk"),
        ("http://example.org:80/a/./b/../c", "http://example.org/a/c"),
        (
            "https://example.org/%7euser/%2f?b=2&a=1&fbclid=zz",
            "https://example.org/~user/%2F?a=1&b=2",
        ),
        (
            "https://www.google.com/url?q=https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fz&sa=D",
            "https://example.org/z",
        ),
        ("https://m.facebook.com/story.php?id=1", "https://www.facebook.com/story.php?id=1"),
        ("https://mobile.twitter.com/Someone/status/12?s=20", "https://x.com/Someone/status/12"),
        ("https://user:secret@example.org/x", "https://example.org/x"),
        ("https://bit.ly/3abcDEF", "https://bit.ly/3abcDEF"),
    ],
)
def test_canonical_forms(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


@pytest.mark.parametrize(
    "raw",
    [
        "https://t.me/SomeChannel",
        "https://t.me/s/somechannel",
        "telegram.me/somechannel",
        "tg://resolve?domain=SomeChannel",
        "hxxps://t[.]me/somechannel",
    ],
)
def test_telegram_forms_are_one_account(raw: str) -> None:
    canon = canonicalize(raw)
    assert canon.url == "https://t.me/somechannel"
    assert canon.account == "telegram:somechannel"


def test_telegram_messages_keep_their_number() -> None:
    assert (
        canonicalize("https://t.me/s/SomeChannel/123?single").url == "https://t.me/somechannel/123"
    )
    assert canonicalize("tg://resolve?domain=chan&post=7").url == "https://t.me/chan/7"
    assert canonicalize("https://t.me/c/1234567/89").account is None


def test_idn_hosts_keep_the_a_label_and_flag_mixed_scripts() -> None:
    cyrillic = canonicalize("https://раура.com/login")  # all Cyrillic: a real script, not mixed
    assert cyrillic.host.startswith("xn--") and cyrillic.mixed_script is False
    lookalike = canonicalize("https://раураl.com/login")  # Cyrillic with a Latin l
    assert lookalike.mixed_script
    mixed = canonicalize("https://pаypal.com/")  # Latin p, Cyrillic а
    assert mixed.host.startswith("xn--") and mixed.mixed_script
    german = canonicalize("https://Bücher.de/x")
    assert (
        german.host == "xn--bcher-kva.de"
        and german.unicode_host == "bücher.de"
        and not german.mixed_script
    )


def test_registrable_domain_and_psl_version() -> None:
    canon = canonicalize("https://a.b.example.co.uk/x")
    assert canon.registrable_domain == "example.co.uk"
    assert canon.psl_version.startswith("publicsuffixlist ")
    assert canonicalize("http://192.0.2.7/x").registrable_domain is None


def test_archive_snapshots_stay_on_the_archive_and_name_their_target() -> None:
    canon = canonicalize(
        "https://web.archive.org/web/20240101000000/https://example.org/p?utm_source=1"
    )
    assert canon.host == "web.archive.org"
    assert canon.target == "https://example.org/p"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<script>", "scheme"),
        ("ftp://example.org/x", "scheme"),
        ("https://exa mple.org/", "whitespace"),
        ("https://" + "a" * 9000 + ".org", "limit"),
        ("https:///nohost", "host"),
        ("", "empty"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidURL, match=reason):
        canonicalize(raw)


def test_refang_and_extract() -> None:
    assert refang("hxxps://example[.]org/a") == "https://example.org/a"
    assert refang("hXXp://bad(.)site[.]net") == "http://bad.site.net"
    found = extract_urls("راجع hxxps://justpaste[.]it/abc، و t.me/foo/12 (https://a.org/x_(y)).")
    assert found == ["https://justpaste.it/abc", "t.me/foo/12", "https://a.org/x_(y)"]


@given(st.text(max_size=300))
def test_canonicalize_raises_only_invalid_url(text: str) -> None:
    with contextlib.suppress(InvalidURL):
        canonicalize(text)


@given(
    st.from_regex(
        r"https?://[a-zA-Z0-9.-]{1,30}\.(org|com|co\.uk|de)(:[0-9]{1,5})?(/[a-zA-Z0-9._~%!$&'()*+,;=:@/-]{0,40})?(\?[a-z0-9=&%]{0,30})?",
        fullmatch=True,
    )
)
def test_canonical_form_is_a_fixed_point(url: str) -> None:
    try:
        first = canonicalize(url)
    except InvalidURL:
        return
    assert canonicalize(first.url).url == first.url


@given(st.text(max_size=500))
def test_extract_urls_never_crashes(text: str) -> None:
    for url in extract_urls(text):
        assert url


def test_registry_attributes_subdomains_and_unknowns() -> None:
    registry = PlatformRegistry.load_default()
    assert len(registry) >= 120
    assert registry.attribute(canonicalize("https://foo.blogspot.com/p/1")).key == "blogger"
    assert registry.attribute(canonicalize("https://www.youtube.com/watch?v=x")).key == "youtube"
    unknown = registry.attribute(canonicalize("https://news.outlet-example.net/a"))
    assert (unknown.key, unknown.name, unknown.known) == (
        "unknown:outlet-example.net",
        "unknown: outlet-example.net",
        False,
    )


def test_registry_overrides_fill_in_contacts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    override = tmp_path / "contacts.json"
    override.write_text(
        '[{"key": "justpaste", "referral": {"email": "abuse@example.org"}}]', encoding="utf-8"
    )
    registry = PlatformRegistry.load(override)
    platform = registry.get("justpaste")
    assert platform.referral["email"] == "abuse@example.org"
    assert platform.domains  # the rest of the entry is kept
