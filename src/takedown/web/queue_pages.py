"""Bulk decisions on the review queue: the same checks as one decision (CSRF, the sighting
visible to the user, a reviewer who asked for a second review cannot close it), applied to
each selected sighting; those that fail are skipped and counted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from takedown.api.models import ApiReviewDecision
from takedown.api.scope import can_see_sighting
from takedown.web.queue import CLOSING, DECISIONS
from takedown.web.views import User, _answer, _app, check_csrf, needs, viewer_of

router = APIRouter(include_in_schema=False)
MAX_BULK = 500


@router.post("/queue/bulk", response_model=None, **needs("review", "decide review items"))
def decide_many(
    request: Request,
    user: User,
    csrf: Annotated[str, Form(max_length=200)],
    decision: Annotated[str, Form(max_length=32)],
    ids: Annotated[list[int], Form(max_length=MAX_BULK)],
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_csrf(user, csrf)
    if decision not in CLOSING:
        return _answer(request, 400, "bulk decisions: refer or not in scope only")
    viewer = viewer_of(user)
    done = skipped = 0
    with _app(request).db.session() as session:
        for sighting_id in sorted(set(ids)):
            if not 1 <= sighting_id < 2**31 or not can_see_sighting(session, viewer, sighting_id):
                skipped += 1
                continue
            asked = session.scalar(
                select(ApiReviewDecision.id).where(
                    ApiReviewDecision.sighting_id == sighting_id,
                    ApiReviewDecision.decision == "second_review",
                    ApiReviewDecision.user_id == user.user_id,
                )
            )
            if asked is not None:
                skipped += 1
                continue
            session.add(
                ApiReviewDecision(sighting_id=sighting_id, user_id=user.user_id, decision=decision)
            )
            done += 1
    label = DECISIONS[decision]
    message = f"{label}: {done} item(s)" + (f", {skipped} skipped" if skipped else "")
    return _answer(request, 200, message, back)
