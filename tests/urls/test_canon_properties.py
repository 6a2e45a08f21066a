"""Properties of canonicalisation over generated URLs and arbitrary text."""

from __future__ import annotations

import contextlib
from ipaddress import IPv4Address
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from takedown.urls import CanonicalURL, InvalidURL, canonicalize

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
IDN_LABEL = st.text(alphabet="abcäöüßабвгдеклмнопраураقناةبيت日本ひらカタ", min_size=1, max_size=8)
TLD = st.sampled_from(["org", "com", "co.uk", "de", "ru", "me", "io", "xn--p1ai"])
PLATFORM = st.sampled_from(
    [
        "t.me", "telegram.me", "youtu.be", "m.youtube.com", "twitter.com", "m.facebook.com",
        "instagram.com", "mega.nz", "web.archive.org", "archive.is", "vk.com", "bit.ly",
    ]
)  # fmt: skip
HOST = st.one_of(
    st.builds(lambda a, b, t: f"{a}.{b}.{t}", LABEL, LABEL, TLD),
    st.builds(lambda a, t: f"{a}.{t}", IDN_LABEL, TLD),
    PLATFORM,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "%2e", "%7E", "%2F", "%zz", "s", "c", "@Name", "+Inv", "123"]),
    st.text(alphabet="aZ09-._~!$&'()*+,;=:@%ä中", max_size=8),
)
PARAM = st.builds(
    lambda k, v: f"{k}={v}" if v is not None else k,
    st.one_of(
        st.sampled_from(["utm_source", "fbclid", "si", "v", "q", "u", "url", "a", "A", "feature"]),
        st.text(alphabet="abcXYZ_%2", min_size=1, max_size=5),
    ),
    st.one_of(st.none(), st.text(alphabet="abc123%+/:?=.-_ä", max_size=12)),
)
URL = st.builds(
    lambda scheme, host, port, path, params, frag: (
        f"{scheme}{host}{port}/{'/'.join(path)}"
        + ("?" + "&".join(params) if params is not None else "")
        + (f"#{frag}" if frag is not None else "")
    ),
    st.sampled_from(["http://", "https://", "HTTPS://", "", "//"]),
    HOST,
    st.sampled_from(["", ":80", ":443", ":8080", ":"]),
    st.lists(SEGMENT, max_size=5),
    st.one_of(st.none(), st.lists(PARAM, max_size=5)),
    st.one_of(
        st.none(), st.sampled_from(["", "top", "!/route/1", "!AbCdEfGh!key", "F!Ab_cd-ef!k"])
    ),
)
WRAPPERS = st.sampled_from(
    [
        "https://www.google.com/url?q={}",
        "https://l.facebook.com/l.php?u={}",
        "https://vk.com/away.php?to={}",
        "https://web.archive.org/web/20240101000000/{}",
        "https://archive.ph/newest/{}",
    ]
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _try(raw: str) -> CanonicalURL | None:
    try:
        return canonicalize(raw)
    except InvalidURL:
        return None


@SETTINGS
@given(URL)
def test_canonical_form_is_a_fixed_point(raw: str) -> None:
    first = _try(raw)
    assume(first is not None)
    assert first is not None
    assert canonicalize(first.url) == first


@SETTINGS
@given(URL, st.lists(WRAPPERS, min_size=1, max_size=3))
def test_wrapped_urls_canonicalise_to_a_fixed_point(raw: str, wrappers: list[str]) -> None:
    url = raw
    for wrapper in wrappers:
        url = wrapper.format(quote(url, safe="") if "?" in wrapper else url)
    first = _try(url)
    assume(first is not None)
    assert first is not None
    assert canonicalize(first.url) == first


@SETTINGS
@given(URL)
def test_google_wrapping_does_not_change_the_canonical_form(raw: str) -> None:
    first = _try(raw)
    assume(first is not None)
    assert first is not None
    wrapped = "https://www.google.com/url?q=" + quote(first.url, safe="")
    assert canonicalize(wrapped).url == first.url


@SETTINGS
@given(URL)
def test_defanging_does_not_change_the_canonical_form(raw: str) -> None:
    first = _try(raw)
    assume(first is not None)
    assert first is not None
    url = first.url
    scheme, rest = url.split("://", 1)
    host, slash, tail = rest.partition("/")
    assume(not any(c in tail for c in "[](){}\\") and " dot " not in tail)
    defanged = f"{scheme.replace('http', 'hxxp')}[://]{host.replace('.', '[.]')}{slash}{tail}"
    assert canonicalize(defanged).url == url


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_canonicalize_raises_only_invalid_url_on_any_text(text: str) -> None:
    with contextlib.suppress(InvalidURL):
        canonicalize(text)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="htps:/\\.[]()@%?#&=-_~!$'*+,;0123456789abcxAX\u0430\u3002 \t", max_size=80)
)
def test_canonicalize_raises_only_invalid_url_on_url_like_text(text: str) -> None:
    with contextlib.suppress(InvalidURL):
        canonicalize("http://" + text)
    with contextlib.suppress(InvalidURL):
        canonicalize(text)


@settings(max_examples=200, deadline=None)
@given(URL, st.integers(min_value=1, max_value=120))
def test_results_never_exceed_the_length_limit(raw: str, limit: int) -> None:
    with contextlib.suppress(InvalidURL):
        assert len(canonicalize(raw, max_chars=limit).url) <= limit


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=4))
def test_every_spelling_of_an_ipv4_address_is_one_host(address: IPv4Address) -> None:
    number = int(address)
    octets = str(address).split(".")
    spellings = [
        str(address),
        str(number),
        hex(number),
        ".".join(f"0{int(o):o}" for o in octets),
        f"{octets[0]}.{octets[1]}.{int(octets[2]) * 256 + int(octets[3])}",
        f"[::ffff:{address}]",
    ]
    assert {canonicalize(f"http://{s}/").host for s in spellings} == {str(address)}


@given(URL, st.lists(st.tuples(st.integers(min_value=0), st.sampled_from("\t\n\r")), max_size=4))
def test_tabs_and_newlines_anywhere_are_removed(raw: str, inserts: list[tuple[int, str]]) -> None:
    """WHATWG: ASCII tab and newline are removed from the whole input before parsing."""
    try:
        expected = canonicalize(raw).url
    except InvalidURL:
        assume(False)
        return
    text = raw
    for at, char in inserts:
        at %= len(text) + 1
        text = text[:at] + char + text[at:]
    assert canonicalize(text).url == expected


@given(
    st.builds(lambda a, b, t: f"{a}.{b}.{t}", LABEL, LABEL, TLD),
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from("\u200b\u2060\ufeff\u00ad\ufe0f")),
        min_size=1,
        max_size=3,
    ),
)
def test_characters_uts46_ignores_vanish_from_hosts(
    host: str, inserts: list[tuple[int, str]]
) -> None:
    text = host
    for at, char in inserts:
        at %= len(text) + 1
        text = text[:at] + char + text[at:]
    assert canonicalize(f"https://{text}/p").url == canonicalize(f"https://{host}/p").url


def _browser_path(segments: list[str]) -> str:
    """WHATWG path parsing of ``/`` + segments (plain segments, ``.``, ``..`` and empty ones)."""
    stack: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if stack:
                stack.pop()
            if last:
                stack.append("")
        elif segment == ".":
            if last:
                stack.append("")
        else:
            stack.append(segment)
    return "/" + "/".join(stack)


@given(st.lists(st.sampled_from(["", ".", "..", "a", "b1", "c-d"]), min_size=1, max_size=8))
def test_dot_segments_resolve_as_browsers_then_slashes_collapse(segments: list[str]) -> None:
    """The resource a browser fetches, with ``//`` collapsed afterwards (documented policy)."""
    url = canonicalize("https://files.example.net/" + "/".join(segments)).url
    browser = _browser_path(segments)
    while "//" in browser:
        browser = browser.replace("//", "/")
    assert url == "https://files.example.net" + browser
