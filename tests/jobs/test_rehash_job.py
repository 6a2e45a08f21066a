"""``takedown signals rehash`` on PostgreSQL: queued as a ``signals.rehash`` job that a real
worker runs; ``--wait`` prints what the in-process run prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import Popen

from sqlalchemy import select, text, update

from takedown.app import App
from takedown.matching.hashing import compute_signals
from takedown.signals.pdq import ALGORITHM
from takedown.store.models import Signal
from tests.jobs.conftest import takedown
from tests.signals.test_rehash import _png, _store


def test_rehash_is_a_job_and_wait_prints_its_report(
    queue_app: App, start_worker: Callable[..., Popen[str]]
) -> None:
    ids = [_store(queue_app, _png(seed)) for seed in (11, 12)]
    compute_signals(queue_app, ids)
    with queue_app.db.engine.begin() as conn:
        conn.execute(update(Signal).where(Signal.signal_type == "pdq").values(algorithm=None))

    queued = json.loads(takedown(queue_app, "signals", "rehash", "--json").stdout)
    assert len(queued["jobs"]) == 1
    with queue_app.db.engine.connect() as conn:
        names = conn.execute(text("SELECT task_name FROM procrastinate_jobs")).scalars().all()
    assert names == ["signals.rehash"]
    with queue_app.db.session() as session:  # nothing re-hashed before a worker runs the job
        assert set(
            session.scalars(select(Signal.algorithm).where(Signal.signal_type == "pdq"))
        ) == {None}

    worker = start_worker(queue_app)
    waited = json.loads(takedown(queue_app, "signals", "rehash", "--wait", "--json").stdout)
    worker.terminate()
    worker.wait(timeout=60)
    # the first job re-hashed both contents; the waited-for second found nothing stale left
    assert waited["versions"]["pdq"] == ALGORITHM and waited["failed"] == {}
    assert (waited["contents"], waited["rehashed"]) == (0, 0)
    with queue_app.db.session() as session:
        algorithms = set(
            session.scalars(select(Signal.algorithm).where(Signal.signal_type == "pdq"))
        )
    assert algorithms == {ALGORITHM}
