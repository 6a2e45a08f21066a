"""The infrastructure picture as a standalone SVG image: styled by attributes, no active markup."""

from __future__ import annotations

import pytest

from takedown.web.infra_pages import picture_svg

HTML = (
    "<!doctype html><html><head><title>Infrastructure of x</title></head><body>"
    '<p class="legend"><span>&lt;svg onload=alert(1)&gt;</span></p>'
    '<svg width="10" height="10" viewBox="0 0 10 10" role="img" aria-label="g">'
    '<line x1="1" y1="1" x2="2" y2="2" class="e"><title>a</title></line>'
    "<g><title>outlet: &lt;img src=x onerror=alert(1)&gt;</title>"
    '<circle cx="1" cy="1" r="7" fill="#222" stroke="#fff" stroke-width="3"/>'
    '<circle cx="1" cy="1" r="12" class="taken"/>'
    '<text x="1" y="1">&lt;script&gt;</text></g></svg></body></html>'
)


def test_the_svg_is_cut_out_and_styled_by_attributes() -> None:
    svg = picture_svg(HTML)
    assert svg.startswith(
        '<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'
    )
    assert 'class="' not in svg and 'stroke="#999"' in svg and 'stroke="#d00"' in svg
    assert "legend" not in svg and "<script" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg  # hostile labels stay escaped text


@pytest.mark.parametrize(
    "change",
    [
        ("<g>", "<g><script>alert(1)</script>"),
        ('<line x1="1"', '<line onmouseover="alert(1)" x1="1"'),
        ("<g>", '<g><a href="javascript:alert(1)">x</a>'),
        ("<g>", "<g><foreignObject></foreignObject>"),
        ('<circle cx="1" cy="1" r="7"', '<circle style="x" cx="1" cy="1" r="7"'),
    ],
)
def test_active_or_unknown_markup_is_refused(change: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="unexpected markup"):
        picture_svg(HTML.replace(change[0], change[1], 1))


def test_no_svg_is_an_error() -> None:
    with pytest.raises(ValueError, match="no SVG"):
        picture_svg("<html><body>nothing</body></html>")
