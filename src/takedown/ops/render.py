"""Rendering of the ops reports: HTML (every text escaped, a strict CSP, charts as embedded PNG)
and PDF (reportlab), from the plain dictionaries of :mod:`takedown.ops.reports`. Charts are
drawn by matplotlib with the Agg backend. ``sections`` (titled tables of strings) is shared by
both and by the workspace's report pages.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from takedown.ops.marking import handling_marking
from takedown.report.units import duration, percent

FORMATS = ("json", "html", "pdf")
TOP = 15


# -- charts -------------------------------------------------------------------------------------
def bar_chart(title: str, rows: Iterable[tuple[str, float]]) -> bytes:
    """A horizontal bar chart as PNG bytes (matplotlib, Agg backend, no display)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    data = list(rows)[:TOP]
    figure = Figure(figsize=(6.4, 0.35 * max(len(data), 3) + 1.0), dpi=100)
    axes = figure.add_subplot()
    labels = [_short(k) for k, _ in data][::-1]
    values = [v for _, v in data][::-1]
    axes.barh(range(len(values)), values, color="#3465a4")
    axes.set_yticks(range(len(values)), labels, fontsize=8)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _short(text: str, width: int = 40) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def charts(report: dict[str, Any]) -> list[tuple[str, bytes]]:
    if report["kind"] == "operation":
        specs = [
            ("Items by platform", report["by_platform"], "items"),
            ("Items by language", report["by_language"], "items"),
        ]
    else:
        specs = [
            ("Items removed by platform", report["removed_by_platform"], "count"),
            ("Items removed by language", report["removed_by_language"], "count"),
        ]
    return [
        (title, bar_chart(title, [(r["key"], r[field]) for r in rows]))
        for title, rows, field in specs
        if rows
    ]


# -- rendering ----------------------------------------------------------------------------------
def sections(report: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """The report as titled tables of strings (shared by HTML and PDF)."""

    def fmt(value: Any, key: str = "") -> str:
        if value is None:
            return "–"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if "seconds" in key and isinstance(value, int | float):
            return duration(value)
        if "share" in key and isinstance(value, int | float):
            return percent(value)
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list):
            return ", ".join(fmt(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
        return str(value)

    def label(key: str) -> str:
        return key.replace("_seconds", "").replace("seconds_", "").replace("_", " ")

    def pairs(mapping: dict[str, Any]) -> list[list[str]]:
        return [[label(k), fmt(v, k)] for k, v in mapping.items() if not isinstance(v, list)]

    def listing(rows: list[dict[str, Any]]) -> list[list[str]]:
        if not rows:
            return [["(none)"]]
        head = list(rows[0])
        return [[label(k) for k in head]] + [[fmt(r[k], k) for k in head] for r in rows]

    out: list[tuple[str, list[list[str]]]] = []
    if report["kind"] == "operation":
        out.append(("Summary", pairs(report["summary"])))  # the summary first
        out.append(
            (
                "Operation",
                [
                    ["name", report["operation"]],
                    ["from", report["starts_at"]],
                    ["to", report["ends_at"]],
                    ["closed", fmt(report["closed_at"])],
                    ["participants", fmt(report["participants"])],
                    ["targets", fmt(report["targets"])],
                    ["frozen record digest", fmt(report["final_digest"])],
                ],
            )
        )
        for key in ("by_platform", "by_language", "by_agency", "by_outlet", "by_label"):
            out.append((key.replace("_", " ").capitalize(), listing(report[key])))
    else:
        out.append(("Period", [["from", report["from"]], ["to", report["to"]]]))
        out.append(("Authority figures (TCO Art. 8)", pairs(report["authority_art8"])))
        for key in ("orders_by_platform", "orders_by_language"):
            out.append((key.replace("_", " ").capitalize(), listing(report["authority_art8"][key])))
        out.append(("Platform figures (TCO Art. 7)", pairs(report["platform_art7"])))
        out.append(
            (
                "Orders not acted on, and why",
                listing(report["platform_art7"]["orders_not_acted_on_why"]),
            )
        )
        out.append(("Referrals sent in the period", pairs(report["referrals"])))
        for key in (
            "removed_by_platform",
            "removed_by_language",
            "removed_by_outlet",
            "removed_by_label",
        ):
            out.append((key.replace("_", " ").capitalize(), listing(report[key])))
    return out


def _title(report: dict[str, Any]) -> str:
    if report["kind"] == "operation":
        return f"Operation report: {report['operation']}"
    return f"Transparency report {report['from'][:10]} – {report['to'][:10]}"


def render_html(report: dict[str, Any]) -> bytes:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{esc(_title(report))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style>",
        f"</head><body><h1>{esc(_title(report))}</h1>",
        f"<p>Generated {esc(report['generated_at'])}</p>",
    ]
    for title, rows in sections(report):
        parts.append(f"<h2>{esc(title)}</h2><table>")
        for i, row in enumerate(rows):
            cell = (
                "th"
                if i == 0 and len(rows) > 1 and title.startswith(("By", "Orders", "Removed"))
                else "td"
            )
            parts.append("<tr>" + "".join(f"<{cell}>{esc(c)}</{cell}>" for c in row) + "</tr>")
        parts.append("</table>")
    for title, png in charts(report):
        data = base64.b64encode(png).decode()
        parts.append(
            f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts).encode()


_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def _font() -> tuple[str, str]:
    """A Unicode font with Latin, Cyrillic, Greek, Hebrew and Arabic glyphs, registered with
    reportlab: DejaVu Sans as matplotlib's wheel ships it (its licence: Bitstream Vera / DejaVu,
    free to embed), else Debian's fonts-dejavu-core. (regular, bold) font names."""
    import importlib

    import matplotlib

    pdfmetrics = importlib.import_module("reportlab.pdfbase.pdfmetrics")
    TTFont = importlib.import_module("reportlab.pdfbase.ttfonts").TTFont

    if "TakedownSans" in pdfmetrics.getRegisteredFontNames():
        return "TakedownSans", "TakedownSans-Bold"
    folders = [
        Path(matplotlib.get_data_path()) / "fonts" / "ttf",
        Path("/usr/share/fonts/truetype/dejavu"),
    ]
    for folder in folders:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("TakedownSans", str(regular)))
            pdfmetrics.registerFont(TTFont("TakedownSans-Bold", str(bold)))
            return "TakedownSans", "TakedownSans-Bold"
    raise RuntimeError("no DejaVu Sans font found (matplotlib's or fonts-dejavu-core)")


def visual(text: str) -> tuple[str, bool]:
    """Text as a PDF prints it: Arabic letters joined (arabic-reshaper) and right-to-left runs
    put in visual order (python-bidi, Unicode's bidi algorithm); True if it reads right to
    left (its first strong character is Arabic or Hebrew)."""
    if not _RTL.search(text):
        return text, False
    import importlib

    reshape = importlib.import_module("arabic_reshaper").reshape  # untyped: no stubs
    get_display = importlib.import_module("bidi").get_display  # untyped: no stubs

    shaped = reshape(text)
    first = next((c for c in text if c.isalpha()), "")
    rtl = bool(_RTL.match(first))
    return str(get_display(shaped, base_dir="R" if rtl else "L")), rtl


def render_pdf(report: dict[str, Any], marking: str | None = None) -> bytes:
    """The report as PDF: a Unicode font embedded (Arabic shaped, right-to-left laid out),
    the handling marking (``marking``, checked by :func:`handling_marking`; default
    :data:`HANDLING`) and page numbers on every page, headings kept with what follows, the
    summary first and one volume chart."""
    shown_marking, _rtl = visual(handling_marking(marking))
    import importlib

    def rl(name: str) -> Any:
        return importlib.import_module(f"reportlab.{name}")  # untyped: no stubs

    colors, enums, A4 = rl("lib.colors"), rl("lib.enums"), rl("lib.pagesizes").A4
    cm = rl("lib.units").cm
    getSampleStyleSheet = rl("lib.styles").getSampleStyleSheet
    platypus = rl("platypus")
    Image, Paragraph, Spacer = platypus.Image, platypus.Paragraph, platypus.Spacer
    SimpleDocTemplate, Table, TableStyle = (
        platypus.SimpleDocTemplate,
        platypus.Table,
        platypus.TableStyle,
    )

    regular, bold = _font()
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2"):
        styles[name].fontName = bold
        styles[name].keepWithNext = 1
    styles["Normal"].fontName = regular
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10, fontName=regular)
    title_text = _title(report)

    def para(text: str, style: Any) -> Any:
        shown, rtl = visual(text)
        if rtl:  # right-to-left text is laid out from the right margin
            style = style.clone(style.name + "-rtl", alignment=enums.TA_RIGHT)
        return Paragraph(escape(shown), style)

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(bold, 8)
        canvas.setFillColor(colors.darkred)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 1.2 * cm, shown_marking)
        canvas.setFont(regular, 8)
        canvas.setFillColor(colors.black)
        footer, _rtl = visual(f"{_short(title_text, 90)} · page {doc.page}")
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, footer)
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=title_text, author="Takedown", topMargin=2.2 * cm
    )
    story: list[Any] = [para(title_text, styles["Title"])]
    story.append(
        para(f"Generated {report['generated_at'][:16].replace('T', ' ')} UTC", styles["Normal"])
    )
    for title, rows in sections(report):
        story.append(para(title, styles["Heading2"]))
        data = [[para(_short(c, 300), cell) for c in row] for row in rows]
        width = (A4[0] - 4 * cm) / max(len(rows[0]), 1)
        table = Table(data, colWidths=[width] * len(rows[0]), repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
        story.append(table)
        story.append(Spacer(1, 0.3 * cm))
    for title, png in charts(report)[:1]:  # the volume chart; the rest are in the tables
        story.append(para(title, styles["Heading2"]))
        image = Image(io.BytesIO(png))
        scale = min(1.0, (A4[0] - 4 * cm) / image.drawWidth)
        image.drawWidth *= scale
        image.drawHeight *= scale
        story.append(image)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


def render(report: dict[str, Any], fmt: str, marking: str | None = None) -> bytes:
    """The report as json, html or pdf (``marking``: the PDF's handling marking)."""
    if fmt == "json":
        import json

        return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "html":
        return render_html(report)
    if fmt == "pdf":
        return render_pdf(report, marking)
    raise ValueError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
