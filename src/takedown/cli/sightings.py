"""``takedown sightings``: recent sightings with their matching status."""

from __future__ import annotations

from typing import Any

import click

from takedown.cli.output import json_option, print_json, table


@click.command("sightings")
@click.option("--operation", help="Only sightings of this operation.")
@click.option("--platform", "platform_key", help="Only this platform key (e.g. youtube).")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@click.pass_obj
def sightings_cmd(
    obj: Any, operation: str | None, platform_key: str | None, limit: int, as_json: bool
) -> None:
    """Recent sightings with their status: known (bank, label, distance), copy, held or new."""
    from takedown.matching.lookup import recent_sightings, sighting_status

    rows = recent_sightings(obj.app, operation=operation, platform=platform_key, limit=limit)
    status = sighting_status(obj.app, [r["id"] for r in rows])
    for row in rows:
        st = status[row["id"]]
        row["status"] = {
            "state": st.state,
            "bank": st.bank,
            "labels": st.labels,
            "distance": st.distance,
            "signal_type": st.signal_type,
            "evidence": st.evidence,
        }
    if as_json:
        print_json({"sightings": rows})
        return
    table(
        f"{len(rows)} sightings",
        ["id", "seen", "platform", "url", "status"],
        [
            [
                r["id"],
                r["seen_at"],
                r["platform"],
                r["url"],
                _describe(r["status"]),
            ]
            for r in rows
        ],
    )


def _describe(status: dict[str, Any]) -> str:
    from takedown.matching.lookup import evidence_text

    # Robust matches (keypoints, video_keyframe) also name their type and stored evidence.
    why = (
        f" ({status['signal_type']}: {evidence_text(status['evidence'])})"
        if status.get("evidence")
        else ""
    )
    if status["state"] in ("known", "held", "suppressed"):
        label = (status["labels"] or {}).get("outlet", "")
        return f"{status['state']}: {status['bank']}, {label}, distance {status['distance']}{why}"
    if status["state"] == "copy":
        return f"copy of earlier content, distance {status['distance']}{why}"
    return "new"
