"""Intake on PostgreSQL enqueues the hashing jobs in the transaction that stores the content:
both commit together, and a batch that rolls back leaves neither content nor jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from takedown.app import App
from takedown.evidence.ingest import Ingestor
from takedown.store.models import Content
from tests.jobs.conftest import write_items


def _job_content_ids(app: App) -> list[int]:
    with app.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT task_name, args FROM procrastinate_jobs "
                "WHERE task_name <> 'verify.reuploads' ORDER BY id"
            )
        ).all()
    ids: list[int] = []
    for name, args in rows:
        assert name == "signals.compute" and args["then_match"] is True
        ids.extend(args["content_ids"])
    return ids


def _content_ids(app: App) -> list[int]:
    with app.db.session() as session:
        return list(session.scalars(select(Content.id).order_by(Content.id)))


def test_content_rows_and_their_hashing_jobs_commit_together(
    queue_app: App, tmp_path: Path
) -> None:
    queue_app.settings.batch_size = 4  # several batches, each its own transaction
    report = Ingestor(queue_app).ingest(write_items(tmp_path / "in", images=2, texts=8))
    assert report.ok and report.contents_created == 10
    stored = _content_ids(queue_app)
    assert len(stored) == 10
    assert sorted(_job_content_ids(queue_app)) == stored  # each content in exactly one job
    assert report.jobs_queued == 3 and report.new_content_ids == []
    assert sorted(report.queued_content_ids) == stored
    assert report.to_dict()["jobs_queued"] == 3

    again = Ingestor(queue_app).ingest(tmp_path / "in" / "list.csv")
    assert again.contents_created == 0 and again.jobs_queued == 0
    assert len(_job_content_ids(queue_app)) == 10
    with queue_app.db.engine.connect() as conn:  # re-uploads marked by a job after each run
        runs = conn.execute(
            text(
                "SELECT (args->>'import_id')::int FROM procrastinate_jobs "
                "WHERE task_name = 'verify.reuploads' ORDER BY id"
            )
        ).scalars()
        assert list(runs) == [report.import_id, again.import_id]


def test_a_batch_that_rolls_back_leaves_neither_content_nor_jobs(
    queue_app: App, tmp_path: Path
) -> None:
    """A real failure inside the batch's transaction (after content and jobs were written)."""
    with queue_app.db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse_sighting() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full (simulated)'; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_sighting BEFORE INSERT ON sighting "
                "FOR EACH ROW EXECUTE FUNCTION refuse_sighting()"
            )
        )
    try:
        with pytest.raises(Exception, match="disk full"):
            Ingestor(queue_app).ingest(write_items(tmp_path / "in", images=1, texts=3))
        assert _content_ids(queue_app) == []
        assert _job_content_ids(queue_app) == []
    finally:
        with queue_app.db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_sighting ON sighting"))
            conn.execute(text("DROP FUNCTION refuse_sighting()"))
    report = Ingestor(queue_app).ingest(tmp_path / "in" / "list.csv")
    assert report.contents_created == 4
    assert sorted(_job_content_ids(queue_app)) == _content_ids(queue_app)


def test_the_ingest_command_reports_the_jobs_it_queued(queue_app: App, tmp_path: Path) -> None:
    from tests.jobs.conftest import takedown

    source = write_items(tmp_path / "in", images=0, texts=3)
    done = takedown(queue_app, "ingest", str(source), "--json")
    (imported,) = json.loads(done.stdout)["imports"]
    assert imported["jobs_queued"] == 1 and imported["matching"] == {"queued": 1}
    assert len(_job_content_ids(queue_app)) == 3
    shown = takedown(queue_app, "ingest", str(source))
    assert "matching: 0 hashing job(s) queued" in shown.stdout
