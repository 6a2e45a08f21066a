"""``takedown demo``: a synthetic Referral Action Day, generated and run end to end."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import click

from takedown.app import App
from takedown.cli.evidence import progress_bar
from takedown.cli.output import console, fail, json_option, print_json, table
from takedown.demo import DemoManifest, DemoSpec, generate
from takedown.demo.followup import FollowUp, run_followup
from takedown.demo.operation import open_operation, write_reports
from takedown.evidence.ingest import Ingestor
from takedown.intake.records import IntakeError
from takedown.matching.banks import add_entries, create_bank, list_banks
from takedown.matching.formats import BadRow, BankRow
from takedown.matching.lookup import hash_file
from takedown.matching.pipeline import process_new_content
from takedown.referrals.figures import figures as referral_figures
from takedown.report.summary import matching_summary, summarise

OPERATION = "Synthetic Action Day"
BANK = "Partner hash list (synthetic)"


def seed_bank(app: App, manifest: DemoManifest) -> int:
    """A partner's bank of known material: PDQ, video and MD5 signals of some originals."""
    if not any(b.bank.name == BANK for b in list_banks(app)):
        create_bank(
            app,
            BANK,
            description="Synthetic partner hash list for the demo",
            labels={"source": "demo partner"},
        )
    rows: list[BankRow | BadRow] = []
    for path in manifest.known_originals:
        _kind, values, _errors = hash_file(path)
        outlet = manifest.outlets.get(path.name, "")
        for value in values:
            if value.variant == "" and value.signal_type in ("pdq", "video", "md5"):
                rows.append(
                    BankRow(
                        path.name,
                        value.signal_type,
                        value.value,
                        labels={"outlet": outlet, "taxonomy": "propaganda (synthetic)"},
                    )
                )
    return add_entries(app, BANK, rows, actor="demo").added


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to generate the material (default DATA/demo-source).",
)
@click.option("--seed", type=int, default=DemoSpec.seed, show_default=True)
@click.option("--sightings", type=int, default=DemoSpec.sightings, show_default=True)
@click.option(
    "--refer/--no-refer",
    default=True,
    show_default=True,
    help="Then refer everything to local fake platforms, take their answers, verify removal "
    "and catch re-uploads (nothing leaves the machine).",
)
@json_option
@click.pass_obj
def demo(obj: Any, out: Path | None, seed: int, sightings: int, refer: bool, as_json: bool) -> None:
    """Generate a synthetic action day, ingest, match, refer and verify it.

    Invented outlets, media drawn with Pillow, generated text: never real material. The
    platforms that receive the referrals are a local fake server (docs/operations.md).
    """
    app = obj.app
    root = out or app.settings.data / "demo-source"
    started = time.monotonic()
    spec = DemoSpec(seed=seed, sightings=sightings)
    with progress_bar(as_json) as bar:
        gen_task = bar.add_task("generate material", total=None)
        manifest = generate(
            spec,
            root,
            progress=lambda done, total: bar.update(gen_task, completed=done, total=total),
        )
        bar.remove_task(gen_task)
        bank_task = bar.add_task("seed partner hash bank", total=None)
        seeded = seed_bank(app, manifest)
        bar.remove_task(bank_task)
        ingestor = Ingestor(app)
        reports = []
        for path, fmt in manifest.sources:
            task = bar.add_task(f"ingest {path.name}", total=None)
            options = (
                {"channel": manifest.telegram_channel}
                if fmt == "telegram" and manifest.telegram_channel
                else {}
            )
            try:
                report = ingestor.ingest(
                    path,
                    fmt,
                    reporter=None,
                    operation=OPERATION,
                    options=options,
                    progress=partial(bar.advance, task),
                )
            except IntakeError as exc:
                raise fail(f"{path}: {exc}") from exc
            reports.append(report)
            if report.new_content_ids:
                bar.update(task, description=f"hash and match {path.name}")
                process_new_content(app, report.new_content_ids)
            bar.remove_task(task)
        open_operation(app, OPERATION)
        followup = None
        if refer:
            step = bar.add_task("refer and verify", total=None)
            followup = run_followup(
                app,
                OPERATION,
                seed,
                say=lambda text: bar.update(step, description=f"refer and verify: {text}"),
            )
            bar.remove_task(step)
    summary = summarise(app.db, OPERATION)
    matching = matching_summary(app.db, OPERATION)
    removal = referral_figures(app, by="platform") if followup is not None else None
    report_dir = app.settings.data / "reports"
    operation_report = write_reports(app, OPERATION, report_dir)
    elapsed = time.monotonic() - started
    if as_json:
        print_json(
            {
                "operation": OPERATION,
                "seconds": round(elapsed, 1),
                "summary": summary.to_dict(),
                "bank": {"name": BANK, "entries_added": seeded},
                "matching": matching.to_dict(),
                "imports": [r.to_dict() for r in reports],
                "followup": followup.to_dict() if followup is not None else None,
                "figures": removal,
                "operation_report": operation_report,
                "reports": str(report_dir),
            }
        )
        return
    console.print(f"[bold]{OPERATION}[/bold] — generated in {root} and ingested in {elapsed:.0f} s")
    for r in reports:
        console.print(
            f"  {Path(r.source).name:<24} {r.records:>6} records  {r.created:>6} new  "
            f"{r.duplicates:>5} duplicates  {len(r.rejected):>4} rejected"
        )
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.content_by_kind.items()))
    console.print(
        f"\n{summary.sightings} sightings ({summary.with_content} with content, "
        f"{summary.url_only} URL only), {summary.unique_content} unique content ({kinds}), "
        f"{summary.platforms} platforms (+{summary.unknown_domains} unknown domains), "
        f"{len([k for k in summary.languages if k != 'unknown'])} languages, "
        f"{summary.reporters} reporters"
    )
    console.print(
        f"{matching.sightings_known} sightings matched known material in bank {BANK!r} "
        f"({matching.contents_known} content items; {matching.sightings_held} held by flood "
        f"control); {matching.clusters} clusters, {matching.clusters_multi} with several copies"
    )
    table("Top platforms", ["platform", "sightings"], summary.top_platforms)
    table(
        "Largest clusters across platforms",
        ["cluster", "copies (content)", "sightings", "platforms", "known", "outlet"],
        [
            [c.cluster_id, c.contents, c.sightings, c.platforms, c.known, c.label]
            for c in matching.largest
        ],
    )
    table("Languages", ["language", "sightings"], list(summary.languages.items()))
    if followup is not None and removal is not None:
        _print_followup(followup, removal)
    _print_operation(operation_report, report_dir)


def _print_operation(report: dict[str, Any], folder: Path) -> None:
    s = report["summary"]
    console.print(
        f"\n[bold]Operation report[/bold] ({', '.join(report['participants'])}): "
        f"{s['sightings']} sightings, {s['items']} items after deduplication across agencies "
        f"({s['duplicates_across_agencies']} duplicates), {s['unique_material']} pieces of "
        f"material on {s['platforms']} platforms in {s['languages']} languages; referred "
        f"{s['referred']}, removed {s['removed']} ({_share(s['share_removed'])}), "
        f"{s['reuploads']} re-uploads — JSON, HTML and PDF in {folder}"
    )


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


def _print_followup(f: FollowUp, removal: dict[str, Any]) -> None:
    checks = ", ".join(f"{n} {k}" for k, n in sorted(f.checks.items()))
    rechecks = ", ".join(f"{n} {k}" for k, n in sorted(f.rechecks.items()))
    console.print(
        f"\n[bold]Referral and verification[/bold] — {f.platforms} local fake platforms "
        f"(settings in {f.settings_dir}), {f.seconds:.0f} s"
    )
    console.print(
        f"{f.orders} removal orders and {f.referrals} referrals drafted, {f.sent} sent "
        f"({f.failed} failed, kept pending), {f.callbacks} signed platform answers received; "
        f"{f.unrouted} sightings on self-hosted sites unrouted (no hoster or registrar known)"
    )
    console.print(f"checks: {checks or 'none'}; after re-uploads: {rechecks or 'none'}")
    console.print(
        f"{f.reuploads_found} re-uploads found after removal, {f.reuploads_referred} "
        "referrals drafted for them at once"
    )
    total = removal["total"]
    console.print(
        f"removed {total['removed']} of {total['referred']} referred "
        f"({_share(total['share_removed'])}); median time to removal "
        f"{_duration(total['median_seconds'])}, 90th percentile "
        f"{_duration(total['p90_seconds'])}; removal orders {total['orders']}, "
        f"{total['orders_missed_deadline']} missed the one-hour deadline"
    )
    table(
        "Removal by platform (time from referral)",
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
