"""signal algorithm version: which variant of a signal type's algorithm computed a value

Rows stored before it (NULL) came from the earlier PDQ and video hashers; ``takedown signals
rehash`` re-computes them from the stored evidence (issue #19).

Revision ID: 0090
Revises: 0080
Create Date: 2026-12-07 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0090"
down_revision = "0080"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("algorithm", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.drop_column("algorithm")
