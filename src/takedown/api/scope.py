"""Who sees what, for the HTTP faces: the rule lives in :mod:`takedown.access.visibility`
(written out in ``docs/security.md``); this module keeps the names the faces import."""

from __future__ import annotations

from takedown.access.visibility import (
    Viewer,
    agency_name,
    can_see_cluster,
    can_see_content,
    can_see_sighting,
    co_reporters,
    referral_filter,
    sighting_filter,
    visible_cluster_ids,
    visible_content_ids,
    visible_ids,
)

__all__ = [
    "Viewer",
    "agency_name",
    "can_see_cluster",
    "can_see_content",
    "can_see_sighting",
    "co_reporters",
    "referral_filter",
    "sighting_filter",
    "visible_cluster_ids",
    "visible_content_ids",
    "visible_ids",
]
