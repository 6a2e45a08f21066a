"""The demo's action day as an operation: three agencies, their reporters, the closing report.

The synthetic sources name their reporters ``analyst-N@unit-a.example`` and so on; the demo
registers three invented agencies, maps each reporter to one, opens the operation over the
48-hour window the sightings fall in, and at the end writes the operation report (JSON,
HTML, PDF) that a press release of such a day would quote.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from takedown.app import App
from takedown.ops.agencies import OpsError, add_reporter, create_agency, get_agency
from takedown.ops.operations import create_operation
from takedown.ops.reports import operation_report, render
from takedown.store.models import Sighting

AGENCIES = {"unit-a": "Unit A (synthetic)", "unit-b": "Unit B (synthetic)"}
OTHER = "Unit C (synthetic)"


def agency_of(reporter: str) -> str:
    for marker, name in AGENCIES.items():
        if marker in reporter:
            return name
    return OTHER


def open_operation(app: App, operation: str) -> list[str]:
    """Agencies, reporter aliases and the operation record for the ingested sightings."""
    names = [*AGENCIES.values(), OTHER]
    with app.db.session() as session:
        agencies = {}
        for name in names:
            try:
                agencies[name] = get_agency(session, name)
            except OpsError:
                agencies[name] = create_agency(session, name)
        reporters = session.scalars(
            select(Sighting.reporter)
            .where(Sighting.operation == operation, Sighting.reporter.is_not(None))
            .distinct()
        ).all()
        for reporter in sorted(r for r in reporters if r):
            try:
                add_reporter(session, agencies[agency_of(reporter)], reporter)
            except OpsError:
                continue  # already standing for its agency (demo run twice)
        first = session.scalar(
            select(func.min(Sighting.seen_at)).where(Sighting.operation == operation)
        )
        if first is not None:
            try:
                create_operation(
                    session,
                    operation,
                    starts_at=first,
                    ends_at=first + timedelta(hours=48),
                    agencies=names,
                    actor="demo",
                )
            except OpsError as exc:
                if "exists already" not in str(exc):
                    raise
    return names


def write_reports(app: App, operation: str, folder: Path) -> dict[str, Any]:
    """The operation report in the three formats; returns the report itself."""
    folder.mkdir(parents=True, exist_ok=True)
    with app.db.session() as session:
        report = operation_report(session, operation)
    for fmt in ("json", "html", "pdf"):
        (folder / f"operation-report.{fmt}").write_bytes(render(report, fmt))
    return report
