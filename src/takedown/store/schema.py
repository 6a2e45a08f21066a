"""The whole schema: core models plus every feature package's models.

Feature packages keep their tables in their own ``models.py`` (on the shared ``Base``) and their
own Alembic revisions; this module imports them all so migrations, the models-equal-migrations
test and test clean-up see one complete ``metadata``.
"""

from __future__ import annotations

from takedown.store.models import Base

FEATURE_MODEL_MODULES: tuple[str, ...] = (
    "takedown.referrals.models",
    "takedown.verify.models",
    "takedown.infra.models",
    "takedown.api.models",
    "takedown.ops.models",
    "takedown.jobs.models",
    "takedown.access.models",
)


def load_all() -> None:
    """Import every feature package's models so they register on ``Base.metadata``."""
    import importlib

    for name in FEATURE_MODEL_MODULES:
        importlib.import_module(name)


load_all()
metadata = Base.metadata
