"""The http(s) cases of WHATWG's ``urltestdata.json`` (web-platform-tests; see
``data/ORIGIN.md``): Takedown gives what a user wrote the same key as what a browser parses it
to (``canonicalize(input) == canonicalize(href)``), and refuses what browsers refuse. The
differences are policy, listed here with the reason; any other difference fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from takedown.urls import InvalidURL, canonicalize

CASES = json.loads((Path(__file__).parent / "data" / "urltestdata-http.json").read_text("utf-8"))
REFUSED = "refused"
#: input -> why Takedown refuses what a browser accepts
POLICY = {
    "http://example.com/foo\t\u0091%91": "a C1 control character (U+0091) in a URL is refused: "
    "corruption or obfuscation, never a link someone shared",
    "http://example.com/\ufeff/foo": "zero-width and BOM characters in a path are refused (in a "
    "host they are removed, as browsers remove them): invisible characters make look-alike keys",
    "http://example.com/\u202e/foo/\u202d/bar": "bidi override characters (U+202E, U+202D) "
    "are refused: they make a URL read differently from what it is",
    "http://www.google.com/foo?bar=baz# \u00bb": "whitespace inside a URL is refused (a "
    "pasted URL with a space is usually two things run together), even in the fragment",
    "http://foo.bar/baz?qux#foo\bbar": "a control character (backspace) is refused anywhere, "
    "even in a fragment that the key then drops",
    "http://example.org/test?a#b\x00c": "NUL is refused anywhere (as above)",
    "https://www.example.com/path{\x7fpath.html?query'\x7f=query#fragment<\x7ffragment": "DEL "
    "(U+007F) is refused anywhere (as above)",
}


def outcome(raw: str) -> str:
    try:
        return canonicalize(raw).url
    except InvalidURL:
        return REFUSED


@pytest.mark.parametrize("case", CASES, ids=[repr(c["input"])[:60] for c in CASES])
def test_whatwg_http_case(case: dict[str, str]) -> None:
    ours = outcome(case["input"])
    if case["input"] in POLICY:
        assert ours == REFUSED, POLICY[case["input"]]
        return
    browser = REFUSED if case.get("failure") else outcome(case["href"])
    assert ours == browser


def test_the_cases_are_mostly_meaningful() -> None:
    """Single-label hosts (``http://f:21/``) are refused on both sides by policy (a host
    without a dot is not on the public web); most cases must still compare real keys."""
    compared = [c for c in CASES if not c.get("failure") and outcome(c["href"]) != REFUSED]
    assert len(CASES) >= 340 and len(compared) >= 110
