"""What ``takedown demo`` prints: each figure says what it counts."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from takedown.cli.output import console, table


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def print_intake(name: str, root: Path, seconds: float, reports: list[Any], summary: Any) -> None:
    console.print(
        f"[bold]{name}[/bold] — material generated in {root}; generated, ingested, hashed and "
        f"matched in {seconds:.0f} s"
    )
    for r in reports:
        console.print(
            f"  {Path(r.source).name:<24} {r.records:>6} records  {r.created:>6} new sightings  "
            f"{r.duplicates:>5} duplicates  {len(r.rejected):>4} rejected"
        )
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.content_by_kind.items()))
    console.print(
        f"\n{summary.sightings} sightings ({summary.with_content} with a file or text, "
        f"{summary.url_only} URL only); {summary.unique_content} distinct files and texts by "
        f"SHA-256 ({kinds}); {summary.platforms} known platforms (+{summary.unknown_domains} "
        f"other domains); {len([k for k in summary.languages if k != 'unknown'])} languages; "
        f"{summary.reporters} reporters"
    )


def print_matching(matching: Any, bank: str, summary: Any) -> None:
    console.print(
        f"{matching.sightings_known} sightings matched known material in bank {bank!r} "
        f"({matching.contents_known} distinct files; {matching.sightings_held} held by flood "
        f"control); {matching.clusters} pieces of material (clusters of matched copies), "
        f"{matching.clusters_multi} of them with several copies"
    )
    table("Top platforms", ["platform", "sightings"], summary.top_platforms)
    table(
        "Largest clusters across platforms",
        ["cluster", "copies (distinct files)", "sightings", "platforms", "known", "outlet"],
        [
            [c.cluster_id, c.contents, c.sightings, c.platforms, c.known, c.label]
            for c in matching.largest
        ],
    )
    table("Languages", ["language", "sightings"], list(summary.languages.items()))


def print_followup(f: Any, removal: dict[str, Any]) -> None:
    first_round = f.orders + f.referrals - f.reuploads_referred
    console.print(
        f"\n[bold]Referral and verification[/bold] — {f.platforms} local fake platforms "
        f"(settings in {f.settings_dir}), {f.seconds:.0f} s"
    )
    console.print(
        f"{f.orders + f.referrals} referrals in all, as `takedown referrals list` counts them: "
        f"{f.orders} removal orders and {first_round - f.orders} referrals on day 1, "
        f"{f.reuploads_referred} more on day 2 for re-uploads; {f.sent} sent as signed "
        f"webhooks ({f.failed} failed, kept pending); {f.callbacks} signed answers received; "
        f"{f.unrouted} sightings on self-hosted sites left unrouted (no hoster or registrar "
        "known yet)"
    )
    checks = ", ".join(f"{n} {k}" for k, n in sorted(f.checks.items()))
    rechecks = ", ".join(f"{n} {k}" for k, n in sorted(f.rechecks.items()))
    console.print(
        "URL checks of the sightings not yet confirmed removed by an answer: "
        f"{checks or 'none'}; again after the re-uploads: {rechecks or 'none'}"
    )
    console.print(
        f"{f.reuploads_found} re-uploads found after removal (new sightings), referred at once"
    )
    total = removal["total"]
    console.print(
        f"sightings removed: {total['removed']} of {total['referred']} referred "
        f"({_share(total['share_removed'])}); median time to removal "
        f"{_duration(total['median_seconds'])}, 90th percentile "
        f"{_duration(total['p90_seconds'])}; removal orders {total['orders']}, "
        f"{total['orders_missed_deadline']} missed the one-hour deadline"
    )
    table(
        "Removal by platform (sightings; time from referral)",
        ["platform", "referred", "removed", "share", "median", "p90", "<= 1 h", "still live"],
        [
            [
                g["key"],
                g["referred"],
                g["removed"],
                _share(g["share_removed"]),
                _duration(g["median_seconds"]),
                _duration(g["p90_seconds"]),
                _share(g["share_within_1h"]),
                g["still_live"],
            ]
            for g in removal["groups"][:15]
        ],
    )
    if f.ignoring:
        console.print(
            f"{len(f.ignoring)} fake platforms are set to ignore referrals, as some do "
            f"(0 % removed: the ones to escalate): {', '.join(f.ignoring)}"
        )


def print_operation(report: dict[str, Any], folder: Path) -> None:
    s = report["summary"]
    console.print(
        f"\n[bold]Operation report[/bold] ({', '.join(report['participants'])}): "
        f"{s['sightings']} sightings, {s['items']} items after deduplication across agencies "
        f"({s['duplicates_across_agencies']} duplicates), {s['unique_material']} pieces of "
        f"material (clusters of copies) on {s['platforms']} platforms in {s['languages']} "
        f"languages; items referred {s['referred']}, removed {s['removed']} "
        f"({_share(s['share_removed'])}), {s['reuploads']} re-uploads — JSON, HTML and PDF in "
        f"{folder}"
    )


def print_outlet_day(d: Any, operation: str) -> None:
    console.print(
        f"\n[bold]{operation}[/bold] — an outlet network mapped, taken down and caught coming "
        f"back ({d.seconds:.0f} s; files in {d.folder})"
    )
    table(
        "Imported with `takedown infra import` (RDAP, WHOIS, passive DNS, IP-to-ASN, certificates)",
        ["file", "format", "facts", "new edges", "IP ranges", "IPs linked", "rejected"],
        [
            [
                Path(r["file"]).name
                if "day-5" not in r["file"]
                else f"day-5/{Path(r['file']).name}",
                r["format"],
                r["facts"],
                r["new_edges"],
                r["ranges"],
                r["ips_linked"],
                r["rejected"],
            ]
            for r in d.imported
        ],
    )
    table(
        "Takedown plans (`takedown infra plan OUTLET`)",
        [
            "outlet",
            "domains",
            "single points of failure",
            "minimum cut",
            "countries",
            "hosters",
            "registrars",
        ],
        [
            [
                p["outlet"],
                len(p["domains"]),
                "; ".join(p["single_points_of_failure"]) or "none",
                "; ".join(p["minimum_cut"]),
                " ".join(p["countries"]),
                len(p["hosters"]),
                len(p["registrars"]),
            ]
            for p in d.plans
        ],
    )
    table(
        "Referrals drafted from the plans (`takedown infra plan OUTLET --refer`)",
        ["reference", "to", "addressee", "domain"],
        [[r["reference"], r["addressee_kind"], r["addressee"], r["domain"]] for r in d.referrals],
    )
    checks = ", ".join(f"{n} {k}" for k, n in sorted(d.checks.items()))
    console.print(
        f"{d.sent} referrals sent to the hosters' and registrars' abuse desks (played by the fake "
        f"platforms; {d.failed} failed); {d.callbacks} signed answers; of the outlet sites' "
        f"sightings, {d.removed} are now removed; URL checks of those not confirmed removed by "
        f"an answer: {checks or 'none'}"
    )
    for e in d.events:
        console.print(
            f"takedown event {e['event']} (seized, 2026-04-29, simulated): {e['outlet']} — "
            f"{len(e['targets'])} targets ({', '.join(t.split(':', 1)[1] for t in e['targets'])})"
        )
    table(
        "Re-establishment alerts four days later (`takedown infra event check EVENT`)",
        ["event", "outlet", "new", "first seen", "evidence (shared with the seized sites)"],
        [
            [
                a["event"],
                a["outlet"],
                f"{a['kind']} {a['label']}",
                f"{a['first_seen']:%Y-%m-%d %H:%M}",
                _evidence(a["evidence"]),
            ]
            for a in d.alerts
        ],
    )
    for outlet, domains in d.confirmed.items():
        console.print(f"confirmed and added to {outlet}: {', '.join(domains)}")


def _short(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name == "day-5" else p.name


def _evidence(items: list[dict[str, Any]]) -> str:
    out: dict[str, None] = {}
    for e in items:
        value = str(e["value"])
        value = value[:16] + "…" if len(value) == 64 else value  # a SHA-256
        shared = f" (with {', '.join(e['shared_with'])})" if e["shared_with"] else ""
        out.setdefault(f"{e['via']} {value}{shared}", None)
    return "; ".join(out)


def print_users(users: list[Any], data_arg: str) -> None:
    created = [u for u in users if u.password]
    if created:
        table(
            "Demo users, one per role and agency (passwords shown once)",
            ["username", "agency", "role", "password"],
            [[u.username, u.agency, u.role, u.password] for u in created],
        )
    else:
        console.print(
            f"\nDemo users exist from an earlier run ({', '.join(u.username for u in users[:3])}, "
            "…; their passwords were shown then). Another: "
            f'takedown{data_arg} user create NAME --agency "Unit A (synthetic)" --role analyst'
        )
    console.print(
        f"\nLog in: run [bold]takedown{data_arg} serve[/bold], open http://127.0.0.1:8080/ and "
        "sign in as one of these users (e.g. unit-a-analyst)."
    )


def next_steps(data: Path | None, action_day: str, outlet_op: str, outlet: str) -> list[str]:
    """Commands that work on the demo's data (with --data when the demo used one)."""
    pre = "takedown" + (f" --data {shlex.quote(str(data))}" if data is not None else "")
    q = shlex.quote
    return [
        f"{pre} operation board {q(action_day)}",
        f"{pre} figures --by addressee",
        f"{pre} referrals list --state actioned",
        f"{pre} infra outlet list",
        f"{pre} infra plan {q(outlet)}",
        f"{pre} infra event list",
        f"{pre} infra timeline {q(outlet)}",
        f"{pre} export stix --operation {q(outlet_op)} --out outlets.stix.json",
        f"{pre} export misp --operation {q(outlet_op)} --out outlets.misp.json",
        f"{pre} report operation {q(action_day)} --format pdf --out action-day.pdf",
        f"{pre} audit verify",
    ]


def print_next(steps: list[str]) -> None:
    console.print("\n[bold]What to try next[/bold] (each works on this data):")
    for step in steps:
        console.print(f"  {step}", soft_wrap=True)
