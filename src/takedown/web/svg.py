"""Hand-written SVG charts, rendered on the server (no script, no external assets).

Every text goes through :func:`esc`; the output is a complete ``<svg>`` document that the
page embeds with ``<img src=...svg>`` (so even a crafted label cannot run script).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from typing import Any

from takedown.web.figures import Figure

W, ROW, LEFT, RIGHT, TOP = 760, 22, 200, 40, 34
COLOURS = ("#3b6ea5", "#c2583a", "#5a8f4e", "#8a5aa8", "#b08a2e", "#2f8f8f", "#a33b6e", "#666")


def esc(value: Any, limit: int = 40) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape("".join(c if c.isprintable() else "?" for c in text), quote=True)


def _doc(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
        f'viewBox="0 0 {W} {height}" role="img" aria-label="{esc(title, 200)}" '
        f'font-family="sans-serif" font-size="12">'
        f'<rect width="{W}" height="{height}" fill="#fff"/>'
        f'<text x="8" y="18" font-size="14" font-weight="bold">{esc(title, 110)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _empty(fig: Figure) -> str:
    return _doc(70, fig.title, ['<text x="8" y="48" fill="#666">no data yet</text>'])


def bars(fig: Figure) -> str:
    rows = [(r[0], float(r[1])) for r in fig.rows]
    if not rows:
        return _empty(fig)
    top = max(v for _l, v in rows) or 1.0
    span = W - LEFT - RIGHT - 40
    body = []
    for i, (label, value) in enumerate(rows):
        y = TOP + i * ROW
        width = span * value / top
        body.append(f'<text x="{LEFT - 6}" y="{y + 14}" text-anchor="end">{esc(label)}</text>')
        body.append(
            f'<rect class="bar" x="{LEFT}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
            f'fill="{COLOURS[0]}"/>'
        )
        body.append(f'<text x="{LEFT + width + 4:.1f}" y="{y + 14}">{value:g}</text>')
    return _doc(TOP + len(rows) * ROW + 10, fig.title, body)


def grouped(fig: Figure) -> str:
    """Shares (0-1) per row, one bar per column after the first two."""
    if not fig.rows:
        return _empty(fig)
    labels = fig.columns[2:]
    span = W - LEFT - RIGHT - 40
    per = len(labels)
    height = ROW * per + 8
    body = []
    for j, name in enumerate(labels):
        body.append(
            f'<rect x="{LEFT + j * 110}" y="24" width="10" height="10" fill="{COLOURS[j]}"/>'
            f'<text x="{LEFT + j * 110 + 14}" y="33">{esc(name)}</text>'
        )
    for i, row in enumerate(fig.rows):
        y = TOP + 12 + i * height
        body.append(
            f'<text x="{LEFT - 6}" y="{y + height / 2:.1f}" text-anchor="end">{esc(row[0])}</text>'
        )
        for j in range(per):
            share = float(row[2 + j])
            width = span * share
            yy = y + j * ROW
            body.append(
                f'<rect class="bar" x="{LEFT}" y="{yy + 3}" width="{width:.1f}" '
                f'height="{ROW - 6}" fill="{COLOURS[j]}"/>'
                f'<text x="{LEFT + width + 4:.1f}" y="{yy + 14}">{share * 100:.0f}%</text>'
            )
    return _doc(TOP + 16 + len(fig.rows) * height, fig.title, body)


def _hours_x(hours: float, top: float) -> float:
    span = W - LEFT - RIGHT
    return LEFT + span * math.log1p(max(0.0, hours)) / math.log1p(top)


def boxes(fig: Figure) -> str:
    """Per row: whiskers p10-p90, box p25-p75, line at the median, on a log-hours axis."""
    if not fig.rows:
        return _empty(fig)
    top = max(float(r[6]) for r in fig.rows) or 1.0
    top = max(top, 1.0)
    body = []
    for tick in (0, 1, 3, 6, 12, 24, 72, 168, 720, 2160):
        if tick <= top * 1.01:
            x = _hours_x(tick, top)
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + len(fig.rows) * ROW}" '
                f'stroke="#ddd"/><text x="{x:.1f}" y="{TOP + len(fig.rows) * ROW + 14}" '
                f'text-anchor="middle" fill="#555">{tick}h</text>'
            )
    for i, row in enumerate(fig.rows):
        y = TOP + i * ROW + ROW / 2
        p10, p25, p50, p75, p90 = (_hours_x(float(v), top) for v in row[2:7])
        body.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(row[0])} '
            f"(n={int(row[1])})</text>"
            f'<line x1="{p10:.1f}" x2="{p90:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#333"/>'
            f'<rect class="box" x="{p25:.1f}" y="{y - 7:.1f}" width="{max(1.0, p75 - p25):.1f}" '
            f'height="14" fill="{COLOURS[0]}" fill-opacity="0.5" stroke="#333"/>'
            f'<line x1="{p50:.1f}" x2="{p50:.1f}" y1="{y - 7:.1f}" y2="{y + 7:.1f}" '
            f'stroke="#000" stroke-width="2"/>'
        )
    return _doc(TOP + len(fig.rows) * ROW + 24, fig.title, body)


def lines(fig: Figure) -> str:
    """Step curves of a share (0-1) over log hours, one per series."""
    if not fig.series:
        return _empty(fig)
    top = max(x for curve in fig.series.values() for x, _y in curve) or 1.0
    plot_h = 220
    y0 = TOP + 10

    def ypos(share: float) -> float:
        return y0 + plot_h * (1 - share)

    body = [
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{ypos(0):.1f}" y2="{ypos(0):.1f}" stroke="#999"/>',
        f'<text x="{LEFT - 6}" y="{ypos(1) + 4:.1f}" text-anchor="end">100%</text>',
        f'<text x="{LEFT - 6}" y="{ypos(0) + 4:.1f}" text-anchor="end">0%</text>',
    ]
    for tick in (0, 1, 6, 24, 72, 168, 720):
        if tick <= top:
            x = _hours_x(tick, top)
            body.append(
                f'<text x="{x:.1f}" y="{ypos(0) + 14:.1f}" text-anchor="middle" fill="#555">'
                f"{tick}h</text>"
            )
    for k, (name, curve) in enumerate(fig.series.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = []
        prev = 1.0
        for x, share in curve:
            px = _hours_x(x, top)
            points.append(f"{px:.1f},{ypos(prev):.1f}")
            points.append(f"{px:.1f},{ypos(share):.1f}")
            prev = share
        body.append(
            f'<polyline class="curve" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(points)}"/>'
            f'<text x="10" y="{y0 + 16 + k * 16}" fill="{colour}">{esc(name, 26)}</text>'
        )
    return _doc(y0 + plot_h + 26, fig.title, body)


RENDER = {"bars": bars, "grouped": grouped, "boxes": boxes, "lines": lines}


def render(fig: Figure) -> str:
    return RENDER.get(fig.kind, bars)(fig)


def timeline(
    items: list[tuple[str, float, str]], lanes: list[str], start: float, end: float, title: str
) -> str:
    """Copies of one piece of material on a time axis, one lane per platform.

    ``items``: (lane, unix time, state) with state one of "online", "removed", "reupload".
    """
    if not items:
        return _doc(70, title, ['<text x="8" y="48" fill="#666">no dated copies</text>'])
    span = max(end - start, 1.0)
    body = []
    marks = {
        "online": '<circle class="copy online" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#3b6ea5"/>',
        "removed": '<path class="copy removed" d="M{a:.1f},{b:.1f} l12,12 m0,-12 l-12,12" '
        'stroke="#c2583a" stroke-width="3"/>',
        "reupload": '<circle class="copy reupload" cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" '
        'stroke="#8a5aa8" stroke-width="3"/>',
    }
    for i, lane in enumerate(lanes):
        y = TOP + i * ROW + ROW / 2
        body.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(lane)}</text>'
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
    bottom = TOP + len(lanes) * ROW + 14
    for when, anchor, at in ((start, "start", LEFT), (end, "end", W - RIGHT)):
        label = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M UTC")
        body.append(
            f'<text x="{at}" y="{bottom}" text-anchor="{anchor}" fill="#555">{esc(label)}</text>'
        )
    for lane, when, state in items:
        y = TOP + lanes.index(lane) * ROW + ROW / 2
        x = LEFT + (W - LEFT - RIGHT) * (when - start) / span
        body.append(marks[state].format(x=x, y=y, a=x - 6, b=y - 6))
    return _doc(TOP + len(lanes) * ROW + 24, title, body)
