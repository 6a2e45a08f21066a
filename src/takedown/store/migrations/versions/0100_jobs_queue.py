"""jobs: content.matched_at, job errors, shared per-host leases and pace

Revision ID: 0100
Revises: 0090
Create Date: 2026-12-07 18:00:00.000000

Content already hashed before this revision is taken as matched (it went through the
in-process pipeline, which matched right after hashing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.store.models import UTCDateTime

revision = "0100"
down_revision = "0090"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matched_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_content_matched_at", ["matched_at"], unique=False)
    op.execute("UPDATE content SET matched_at = created_at WHERE signals_state <> 'pending'")
    op.create_table(
        "job_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("task_name", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_error")),
    )
    op.create_index("ix_job_error_job", "job_error", ["job_id"], unique=False)
    op.create_table(
        "host_pace",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("next_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_host_pace")),
    )
    op.create_table(
        "host_lease",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("host", "slot", name=op.f("pk_host_lease")),
    )


def downgrade() -> None:
    op.drop_table("host_lease")
    op.drop_table("host_pace")
    op.drop_index("ix_job_error_job", table_name="job_error")
    op.drop_table("job_error")
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.drop_index("ix_content_matched_at")
        batch_op.drop_column("matched_at")
