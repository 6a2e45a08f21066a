"""ops: a deconfliction hold on a PDQ hash matches within a Hamming distance

Revision ID: 0060
Revises: 0050
Create Date: 2026-12-01 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_distance", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.drop_column("max_distance")
