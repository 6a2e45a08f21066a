from __future__ import annotations

import pytest

from takedown.urls import MAX_WRAP_DEPTH, PSL_VERSION, InvalidURL, canonicalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.org/x", "http://example.org/x"),
        ("  https://example.org/x \n", "https://example.org/x"),
        ("<https://example.org/x>", "https://example.org/x"),
        ("HTTPS://EXAMPLE.ORG/Path", "https://example.org/Path"),
        ("https:/example.org/x", "https://example.org/x"),
        ("//example.org/x", "http://example.org/x"),
        ("example.org:8080/x", "http://example.org:8080/x"),
        ("https://example.org./x", "https://example.org/x"),
        ("https://ex%41mple.org/", "https://example.org/"),
    ],
)
def test_scheme_and_host_are_normalised(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:443/a", "http://example.org:443/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
    ],
)
def test_only_default_ports_are_removed(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://example.org/a/./b/../c", "http://example.org/a/c"),
        ("http://example.org/a//b///c", "http://example.org/a/b/c"),
        ("http://example.org/a/b/..", "http://example.org/a/"),
        ("http://example.org/../../x", "http://example.org/x"),
        ("http://example.org", "http://example.org/"),
        ("http://example.org/%7euser/%2f", "http://example.org/~user/%2F"),
        ("http://example.org/%41%2e%62", "http://example.org/A.b"),
        ("http://example.org/a%zz", "http://example.org/a%25zz"),
        ("http://example.org/قناة", "http://example.org/%D9%82%D9%86%D8%A7%D8%A9"),
        ("http://example.org/a\\b", "http://example.org/a/b"),
    ],
)
def test_paths_are_normalised(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


def test_fragments_are_dropped() -> None:
    assert canonicalize("https://example.org/a#section-2").url == "https://example.org/a"


def test_hashbang_routes_are_kept_on_other_sites() -> None:
    assert canonicalize("https://example.org/#!/post/7").url == "https://example.org/#!/post/7"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://example.org/p?utm_source=tg&utm_medium=x&fbclid=1&gclid=2&dclid=3&msclkid=4"
            "&igshid=5&mc_cid=6&mc_eid=7&yclid=8&_ga=9&ref_src=10&id=42",
            "https://example.org/p?id=42",
        ),
        ("https://example.org/p?feature=share&x=1", "https://example.org/p?x=1"),
        ("https://open.spotify.com/track/abc?si=xyz", "https://open.spotify.com/track/abc"),
        ("https://example.org/p?si=keep", "https://example.org/p?si=keep"),
        ("https://example.org/p?", "https://example.org/p"),
        ("https://example.org/p?&&utm_source=x", "https://example.org/p"),
    ],
)
def test_tracking_parameters_and_empty_queries_are_dropped(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


def test_query_parameters_are_sorted_stably_by_name() -> None:
    url = canonicalize("https://example.org/?b=2&a=9&c&a=1").url
    assert url == "https://example.org/?a=9&a=1&b=2&c"


def test_query_escapes_are_normalised_but_plus_is_kept() -> None:
    url = canonicalize("https://example.org/?q=%e4+x&r=%7E").url
    assert url == "https://example.org/?q=%E4+x&r=~"


def test_credentials_are_dropped() -> None:
    canon = canonicalize("https://user:secret@example.org/x")
    assert canon.url == "https://example.org/x" and "secret" not in repr(canon)


def test_backslash_before_at_sign_does_not_move_the_host() -> None:
    # Browsers read "\" as "/": the host is example.org, not evil.example.
    assert canonicalize("http://example.org\\@evil.example/x").host == "example.org"


def test_idn_hosts_keep_the_a_label_and_a_unicode_form_for_display() -> None:
    german = canonicalize("https://Bücher.de/x")
    assert german.host == "xn--bcher-kva.de"
    assert german.unicode_host == "bücher.de"
    assert german.registrable_domain == "xn--bcher-kva.de"
    assert not german.mixed_script and not german.lookalike
    assert canonicalize("https://xn--bcher-kva.de/x").url == german.url


def test_mixed_script_look_alikes_are_flagged() -> None:
    lookalike = canonicalize("https://раураl.com/login")  # Cyrillic with a Latin l
    assert lookalike.host.startswith("xn--") and lookalike.mixed_script and lookalike.lookalike
    latin_p = canonicalize("https://pаypal.com/")  # Latin p, Cyrillic а
    assert latin_p.mixed_script


def test_whole_script_look_alikes_are_flagged_but_not_as_mixed() -> None:
    cyrillic = canonicalize("https://раура.com/login")  # every letter Cyrillic
    assert not cyrillic.mixed_script and cyrillic.lookalike
    russian = canonicalize("https://пример.рф/")  # real Russian word: not a look-alike
    assert not russian.mixed_script and not russian.lookalike


def test_japanese_script_mixes_are_not_flagged() -> None:
    canon = canonicalize("https://ひらがなカタカナ漢字.jp/")
    assert not canon.mixed_script


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("http://192.0.2.7/x", "192.0.2.7"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://[2001:DB8:0:0::1]/", "[2001:db8::1]"),
        ("http://[fe80::1%25eth0]/", "[fe80::1]"),
        ("http://[::ffff:192.0.2.1]/", "192.0.2.1"),
    ],
)
def test_ip_hosts_are_normalised(raw: str, host: str) -> None:
    canon = canonicalize(raw)
    assert canon.host == host and canon.is_ip and canon.registrable_domain is None


def test_registrable_domain_comes_from_the_public_suffix_list() -> None:
    canon = canonicalize("https://a.b.example.co.uk/x")
    assert canon.registrable_domain == "example.co.uk"
    assert canon.psl_version == PSL_VERSION and PSL_VERSION.startswith("publicsuffixlist ")
    assert canonicalize("https://someone.blogspot.com/").registrable_domain == (
        "someone.blogspot.com"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<script>", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("ftp://example.org/x", "scheme"),
        ("mailto:someone@example.org", "scheme"),
        ("tg://msg?text=hello", "tg://"),
        ("https://exa mple.org/", "whitespace"),
        ("https://example.org/a\x00b", "control"),  # inside; at the edges C0 is trimmed
        ("https://example.org/a\u202eb", "control"),
        ("https://example.org/\ud800", "Unicode"),
        ("https://" + "a" * 9000 + ".org", "limit"),
        ("http://localhost/", "suffix"),
        ("http://-bad-.org/", "invalid host"),
        ("http://a..b/", "invalid host"),
        ("http://300.1.1.1/", "range"),
        ("http://[1::2::3]/", "IPv6"),
        ("http://example.org:99999/", "port"),
        ("http://example.org:8o/", "port"),
        ("http://@/", "no host"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidURL, match=reason):
        canonicalize(raw)


def test_the_length_limit_is_configurable() -> None:
    url = "https://example.org/" + "a" * 100
    assert canonicalize(url, max_chars=200).url == url
    with pytest.raises(InvalidURL, match="limit of 50"):
        canonicalize(url, max_chars=50)


def test_defanged_input_is_refanged_first() -> None:
    assert canonicalize("hxxps://example[.]org/a").url == "https://example.org/a"
    assert canonicalize("hXXp://bad(.)example[.]net").url == "http://bad.example.net/"


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidURL, match="string"):
        canonicalize(b"https://example.org/")  # type: ignore[arg-type]


def test_wrap_depth_limit_is_at_least_the_nesting_seen_in_practice() -> None:
    assert MAX_WRAP_DEPTH >= 3
