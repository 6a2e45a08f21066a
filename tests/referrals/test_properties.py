"""Properties: hostile callback bodies only ever raise CallbackError; any sequence of answers
keeps a referral in a state of its machine with one event per real transition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from takedown.app import App
from takedown.config import Settings
from takedown.referrals.callbacks import CallbackError, _body
from takedown.referrals.machine import (
    ORDER_STATES,
    REFERRAL_STATES,
    RESPONSES,
    IllegalTransition,
    apply,
)
from takedown.referrals.models import ReferralEvent
from takedown.referrals.respond import find, record
from takedown.referrals.routing import draft

from .conftest import add_sighting

T0 = datetime(2026, 1, 1, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _parse(raw: bytes) -> tuple[str, dict[str, Any] | None]:
    """The refusal code, or the parsed body; any other exception escapes and fails."""
    try:
        return "", _body(raw)
    except CallbackError as exc:
        return exc.code, None


@given(st.binary(max_size=300))
def test_random_bytes_are_refused_cleanly(raw: bytes) -> None:
    code, data = _parse(raw)
    assert code in {"bad_body", "too_large"} if data is None else data["status"] in RESPONSES


@given(
    st.fixed_dictionaries(
        {"schema": st.just("takedown.response/1"), "reference": st.text(max_size=12)},
        optional={
            "status": st.sampled_from([*RESPONSES, "x"]),
            "items": json_values,
            "reason": json_values,
            "at": json_values,
        },
    )
)
def test_schema_shaped_garbage_is_refused_cleanly(data: dict[str, object]) -> None:
    code, parsed = _parse(json.dumps(data).encode())
    if parsed is None:
        assert code == "bad_body"
    else:
        assert parsed["status"] in RESPONSES and isinstance(parsed.get("items") or [], list)


@pytest.fixture(scope="module")
def papp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = App(Settings(data=tmp_path_factory.mktemp("props")))
    yield app
    app.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.booleans(),
    answers=st.lists(st.tuples(st.sampled_from(RESPONSES), st.integers(0, 5)), max_size=8),
)
def test_any_answer_sequence_keeps_the_machine_consistent(
    papp: App, order: bool, answers: list[tuple[str, int]]
) -> None:
    with papp.db.session() as session:
        n = session.scalar(select(func.count()).select_from(ReferralEvent))
    add_sighting(papp, f"https://www.youtube.com/watch?v=p{n}x{id(answers)}", "youtube")
    (referral,) = draft(papp, kind="removal_order" if order else "referral").drafted
    states = ORDER_STATES if order else REFERRAL_STATES
    with papp.db.session() as session:
        apply(session, find(session, referral.reference), "send", at=T0)
    changes = 2  # draft, send
    for status, minutes in answers:
        try:
            with papp.db.session() as session:
                out = record(session, referral.reference, status, T0 + timedelta(minutes=minutes))
            changes += 0 if out.outcome.duplicate else 1
        except IllegalTransition:
            pass
        with papp.db.session() as session:
            r = find(session, referral.reference)
            assert r.state in states
            if r.deadline is not None and r.received_at is not None:
                assert r.deadline >= r.received_at + timedelta(hours=1)
    with papp.db.session() as session:
        r = find(session, referral.reference)
        count = session.scalar(
            select(func.count()).select_from(ReferralEvent).where(ReferralEvent.referral_id == r.id)
        )
    assert count == changes
