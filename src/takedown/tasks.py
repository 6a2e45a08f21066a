"""Every task module, imported in one place so that any runner knows every task name."""

from __future__ import annotations


def load() -> None:
    import takedown.evidence.retention
    import takedown.infra.store_import
    import takedown.jobs.reprocess
    import takedown.matching.hashing
    import takedown.matching.matcher
    import takedown.matching.rehash
    import takedown.ops.reports
    import takedown.referrals.outbox
    import takedown.verify.reuploads
    import takedown.verify.run  # noqa: F401
