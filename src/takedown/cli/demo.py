"""``takedown demo``: a synthetic Referral Action Day and an outlet takedown, end to end."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from takedown.cli.output import console, fail, json_option, print_json

if TYPE_CHECKING:
    from takedown.app import App
    from takedown.demo import DemoManifest

OPERATION = "Synthetic Action Day"
BANK = "Partner hash list (synthetic)"
SIZES = ("small", "full")


def seed_bank(app: App, manifest: DemoManifest) -> int:
    """A partner's bank of known material: PDQ, video and MD5 signals of some originals."""
    from takedown.matching.banks import add_entries, create_bank, list_banks
    from takedown.matching.formats import BadRow, BankRow
    from takedown.matching.lookup import hash_file

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
@click.option(
    "--size",
    type=click.Choice(SIZES),
    default="full",
    show_default=True,
    help="small: ~250 sightings in a minute or two (what the README tests run); full: ~2,200.",
)
@click.option("--seed", type=int, default=2017, show_default=True)
@click.option("--sightings", type=int, help="Number of sightings (default: by --size).")
@click.option(
    "--refer/--no-refer",
    default=True,
    show_default=True,
    help="Then refer everything to local fake platforms, take their answers, verify removal, "
    "catch re-uploads, and run the outlet takedown (nothing leaves the machine).",
)
@json_option
@click.pass_context
def demo(
    ctx: click.Context,
    out: Path | None,
    size: str,
    seed: int,
    sightings: int | None,
    refer: bool,
    as_json: bool,
) -> None:
    """Generate a synthetic action day and an outlet takedown, and run them end to end.

    Day 1-2: a Referral Action Day (sightings ingested, hashed, matched, referred to the
    platforms, answered, verified, re-uploads caught). Then an outlet network (sites, servers
    in six countries, registrars) imported from RDAP/WHOIS/passive-DNS/IP/certificate files,
    its takedown plan referred to hosters and registrars, the takedown recorded, and its
    comeback on new domains four days later detected. Ends with demo users and next steps.

    Invented outlets, media drawn with Pillow, generated text, reserved names and documentation
    IP ranges: never real material. Referrals go to a local fake server (docs/operations.md).
    Running it again adds nothing new (same data, same day).
    """
    from takedown.cli import demo_output as say
    from takedown.cli.evidence import progress_bar
    from takedown.demo import DemoSpec, generate
    from takedown.demo.followup import run_followup
    from takedown.demo.operation import open_operation, write_reports
    from takedown.demo.outlet_day import OUTLET_OPERATION, run_outlet_day
    from takedown.demo.users import ensure_users
    from takedown.evidence.ingest import Ingestor
    from takedown.intake.records import IntakeError
    from takedown.matching.pipeline import process_new_content
    from takedown.referrals.figures import figures as referral_figures
    from takedown.report.summary import matching_summary, summarise

    obj = ctx.obj
    app = obj.app
    root = out or app.settings.data / "demo-source"
    started = time.monotonic()
    spec = DemoSpec.small(seed) if size == "small" else DemoSpec(seed=seed)
    if sightings is not None:
        spec.sightings = sightings
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
        agencies = open_operation(app, OPERATION)
        intake_seconds = time.monotonic() - started
        followup = outlet_day = None
        if refer:
            step = bar.add_task("refer and verify", total=None)
            followup = run_followup(
                app,
                OPERATION,
                seed,
                say=lambda text: bar.update(step, description=f"refer and verify: {text}"),
            )
            bar.update(step, description="outlet takedown: import, plan, refer, comeback")
            posters = [p for p in manifest.known_originals if p.suffix == ".jpg"]
            outlet_day = run_outlet_day(app, root / "outlets", posters, agencies, seed)
            bar.remove_task(step)
        users = ensure_users(app, agencies)
    summary = summarise(app.db, OPERATION)
    matching = matching_summary(app.db, OPERATION)
    removal = referral_figures(app, by="platform") if followup is not None else None
    report_dir = app.settings.data / "reports"
    operation_report = write_reports(app, OPERATION, report_dir)
    data_param = ctx.find_root().params.get("data")
    data_arg = f" --data {data_param}" if data_param is not None else ""
    outlet = "Silver Dune Bulletin"
    steps = say.next_steps(data_param, OPERATION, OUTLET_OPERATION, outlet)
    if as_json:
        print_json(
            {
                "operation": OPERATION,
                "size": size,
                "seconds": round(time.monotonic() - started, 1),
                "intake_seconds": round(intake_seconds, 1),
                "summary": summary.to_dict(),
                "bank": {"name": BANK, "entries_added": seeded},
                "matching": matching.to_dict(),
                "imports": [r.to_dict() for r in reports],
                "followup": followup.to_dict() if followup is not None else None,
                "figures": removal,
                "operation_report": operation_report,
                "reports": str(report_dir),
                "outlet_takedown": outlet_day.to_dict() if outlet_day is not None else None,
                "users": [u.__dict__ for u in users],
                "next": steps,
            }
        )
        return
    say.print_intake(OPERATION, root, intake_seconds, reports, summary)
    say.print_matching(matching, BANK, summary)
    if followup is not None and removal is not None:
        say.print_followup(followup, removal)
    say.print_operation(operation_report, report_dir)
    if outlet_day is not None:
        say.print_outlet_day(outlet_day, OUTLET_OPERATION)
    say.print_users(users, data_arg)
    say.print_next(steps)
    console.print(f"\n(demo finished in {time.monotonic() - started:.0f} s)")
