"""Google Safe Browsing's canonicalisation examples (Safe Browsing API v4 documentation,
"URLs and Hashing: Canonicalization"; Google's documentation text is CC BY 4.0), run through
Takedown's canonicaliser. Where Takedown answers differently, the table says so and why:
Safe Browsing builds lookup keys for a blocklist, Takedown builds keys that name the resource a
browser would fetch, so the differences below are policy, not bugs."""

from __future__ import annotations

import pytest

from takedown.urls import InvalidURL, canonicalize

REFUSED = "refused"
# (input, Safe Browsing's canonical form, Takedown's, why Takedown differs)
CASES = [
    ("http://www.google.com/", "http://www.google.com/", None, ""),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
        None,
        "",
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        None,
        "",
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah", None, ""),
    ("http://www.google.com/blah/..", "http://www.google.com/", None, ""),
    ("www.google.com/", "http://www.google.com/", None, ""),
    ("www.google.com", "http://www.google.com/", None, ""),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah", None, ""),
    ("http://www.GOOgle.com/", "http://www.google.com/", None, ""),
    ("http://www.google.com.../", "http://www.google.com/", None, ""),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2", None, ""),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?", None, ""),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s", None, ""),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo", None, ""),
    ("http://evil.com/foo;", "http://evil.com/foo;", None, ""),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;", None, ""),
    ("http://notrailingslash.com", "http://notrailingslash.com/", None, ""),
    ("  http://www.google.com/  ", "http://www.google.com/", None, ""),
    ("https://www.securesite.com/", "https://www.securesite.com/", None, ""),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd", None, ""),
    (
        "http://host.com//twoslashes?more//slashes",
        "http://host.com/twoslashes?more//slashes",
        None,
        "",
    ),
    # -- differences (policy) --
    ("http://host/%25%32%35", "http://host/%25", REFUSED, "a host without a dot is not on the web"),
    (
        "http://host.example/%25%32%35",
        "http://host.example/%25",
        "http://host.example/%2525",
        "escapes are decoded once, as a server does: %2525 and %25 name different resources",
    ),
    (
        "http://host.example/%2525252525252525",
        "http://host.example/%25",
        "http://host.example/%2525252525252525",
        "no repeated unescaping (see above)",
    ),
    (
        "http://host.example/asdf%25%32%35asd",
        "http://host.example/asdf%25asd",
        "http://host.example/asdf%2525asd",
        "no repeated unescaping (see above)",
    ),
    (
        "http://host.example/%%%25%32%35asd%%",
        "http://host.example/%25%25%25asd%25%25",
        "http://host.example/%25%25%2525asd%25%25",
        "stray % escaped as %25, escapes decoded once",
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
        REFUSED,
        "'#' cannot be in a host name: no browser reaches it",
    ),
    (
        "http://www.google.com/q?",
        "http://www.google.com/q?",
        "http://www.google.com/q",
        "an empty query names the same resource",
    ),
    ("http://\x01\x80.com/", "http://%01%80.com/", REFUSED, "control characters in a host"),
    (
        "http://www.gotaport.com:1234/",
        "http://www.gotaport.com/",
        "http://www.gotaport.com:1234/",
        "a non-default port is another server",
    ),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/", REFUSED, "a space in a host"),
    (
        "http://%20leadingspace.com/",
        "http://%20leadingspace.com/",
        "http://leadingspace.com/",
        "browsers trim the decoded host's spaces",
    ),
    (
        "%20leadingspace.com/",
        "http://%20leadingspace.com/",
        "http://leadingspace.com/",
        "as above",
    ),
]


@pytest.mark.parametrize(("raw", "gsb", "ours", "why"), CASES)
def test_safe_browsing_examples(raw: str, gsb: str, ours: str | None, why: str) -> None:
    expected = gsb if ours is None else ours
    assert (ours is None) == (why == ""), "a difference from Safe Browsing needs its reason"
    if expected == REFUSED:
        with pytest.raises(InvalidURL):
            canonicalize(raw)
    else:
        assert canonicalize(raw).url == expected


def test_the_browser_cases_of_the_issue() -> None:
    assert (
        canonicalize("http://files.example.net/u/123//../index.html").url
        == "http://files.example.net/u/123/index.html"
    )
    assert canonicalize("GOO\u200b\u2060\ufeffgoo.com").url == "http://googoo.com/"
    assert canonicalize("http://exa\tmple.org/a\nb\r").url == "http://example.org/ab"
    assert canonicalize("http://a.example/x/./y//z/..").url == "http://a.example/x/y/"
