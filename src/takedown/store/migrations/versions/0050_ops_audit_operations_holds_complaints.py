"""ops: audit chain, agencies' reporter aliases, operations, holds, dedup links, complaints

Revision ID: 0050
Revises: 0010, 0040
Create Date: 2026-11-30 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import takedown.store.models

revision = "0050"
down_revision = ("0010", "0040")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_event_seq")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "ops_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expired_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["api_agency.id"], name=op.f("fk_ops_hold_agency_id_api_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_hold")),
    )
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_hold_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_ops_hold_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "ops_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=True),
        sa.Column("lead_agency_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("final_board", sa.JSON(), nullable=True),
        sa.Column("final_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_agency_id"],
            ["api_agency.id"],
            name=op.f("fk_ops_operation_lead_agency_id_api_agency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_operation")),
        sa.UniqueConstraint("name", name=op.f("uq_ops_operation_name")),
    )
    op.create_table(
        "ops_reporter_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["api_agency.id"],
            name=op.f("fk_ops_reporter_alias_agency_id_api_agency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_reporter_alias")),
        sa.UniqueConstraint("reporter", name=op.f("uq_ops_reporter_alias_reporter")),
    )
    with op.batch_alter_table("ops_reporter_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ops_reporter_alias_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "ops_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=True),
        sa.Column("assigned_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["ops_operation.id"],
            name=op.f("fk_ops_assignment_operation_id_ops_operation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["api_user.id"], name=op.f("fk_ops_assignment_user_id_api_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_assignment")),
        sa.UniqueConstraint("operation_id", "user_id", name="uq_ops_assignment_user"),
    )
    with op.batch_alter_table("ops_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_assignment_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ops_operation_agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["api_agency.id"],
            name=op.f("fk_ops_operation_agency_agency_id_api_agency"),
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["ops_operation.id"],
            name=op.f("fk_ops_operation_agency_operation_id_ops_operation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_operation_agency")),
        sa.UniqueConstraint("operation_id", "agency_id", name="uq_ops_operation_agency_pair"),
    )
    with op.batch_alter_table("ops_operation_agency", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ops_operation_agency_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "ops_complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("complainant", sa.String(length=200), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("received_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("reinstated_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_ops_complaint_referral_id_referral")
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["sighting.id"], name=op.f("fk_ops_complaint_sighting_id_sighting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_complaint")),
    )
    with op.batch_alter_table("ops_complaint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ops_complaint_sighting_id"), ["sighting_id"], unique=False
        )

    op.create_table(
        "ops_hold_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("first_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("seen_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ops_hold.id"], name=op.f("fk_ops_hold_hit_hold_id_ops_hold")
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["sighting.id"], name=op.f("fk_ops_hold_hit_sighting_id_sighting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_hold_hit")),
        sa.UniqueConstraint("hold_id", "sighting_id", "requester", name="uq_ops_hold_hit_once"),
    )
    with op.batch_alter_table("ops_hold_hit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_hold_hit_hold_id"), ["hold_id"], unique=False)

    op.create_table(
        "ops_sighting_link",
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("primary_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("reporter", sa.String(length=200), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("linked_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["api_agency.id"], name=op.f("fk_ops_sighting_link_agency_id_api_agency")
        ),
        sa.ForeignKeyConstraint(
            ["primary_id"], ["sighting.id"], name=op.f("fk_ops_sighting_link_primary_id_sighting")
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["sighting.id"], name=op.f("fk_ops_sighting_link_sighting_id_sighting")
        ),
        sa.PrimaryKeyConstraint("sighting_id", name=op.f("pk_ops_sighting_link")),
    )
    with op.batch_alter_table("ops_sighting_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ops_sighting_link_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ops_sighting_link_primary_id"), ["primary_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ops_sighting_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_sighting_link_primary_id"))
        batch_op.drop_index(batch_op.f("ix_ops_sighting_link_agency_id"))

    op.drop_table("ops_sighting_link")
    with op.batch_alter_table("ops_hold_hit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_hold_hit_hold_id"))

    op.drop_table("ops_hold_hit")
    with op.batch_alter_table("ops_complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_complaint_sighting_id"))

    op.drop_table("ops_complaint")
    with op.batch_alter_table("ops_operation_agency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_operation_agency_agency_id"))

    op.drop_table("ops_operation_agency")
    with op.batch_alter_table("ops_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_assignment_user_id"))

    op.drop_table("ops_assignment")
    with op.batch_alter_table("ops_reporter_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_reporter_alias_agency_id"))

    op.drop_table("ops_reporter_alias")
    op.drop_table("ops_operation")
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_hold_kind_value")
        batch_op.drop_index(batch_op.f("ix_ops_hold_agency_id"))

    op.drop_table("ops_hold")
    op.drop_table("audit_head")
    op.drop_table("audit_event")
