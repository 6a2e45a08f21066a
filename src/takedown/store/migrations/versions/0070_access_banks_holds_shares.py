"""access: bank owner and sharing, wide holds within an operation, shares between agencies

Revision ID: 0070
Revises: 0065
Create Date: 2026-12-07 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import takedown.store.models

revision = "0070"
down_revision = "0065"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_agency_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sharing", sa.String(length=16), server_default="shared", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_bank_owner_agency_id"), ["owner_agency_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_bank_owner_agency_id_api_agency"),
            "api_agency",
            ["owner_agency_id"],
            ["id"],
        )
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wide", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("operation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ops_hold_operation_id_ops_operation"),
            "ops_operation",
            ["operation_id"],
            ["id"],
        )
    op.create_table(
        "access_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("from_agency_id", sa.Integer(), nullable=False),
        sa.Column("to_agency_id", sa.Integer(), nullable=False),
        sa.Column("shared_by", sa.String(length=200), nullable=True),
        sa.Column("shared_at", takedown.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", takedown.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_agency_id"],
            ["api_agency.id"],
            name=op.f("fk_access_share_from_agency_id_api_agency"),
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["sighting.id"], name=op.f("fk_access_share_sighting_id_sighting")
        ),
        sa.ForeignKeyConstraint(
            ["to_agency_id"],
            ["api_agency.id"],
            name=op.f("fk_access_share_to_agency_id_api_agency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_share")),
        sa.UniqueConstraint("sighting_id", "to_agency_id", name="uq_access_share_pair"),
    )
    with op.batch_alter_table("access_share", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_share_sighting_id"), ["sighting_id"])
        batch_op.create_index(batch_op.f("ix_access_share_to_agency_id"), ["to_agency_id"])


def downgrade() -> None:
    with op.batch_alter_table("access_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_share_to_agency_id"))
        batch_op.drop_index(batch_op.f("ix_access_share_sighting_id"))
    op.drop_table("access_share")
    with op.batch_alter_table("ops_hold", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ops_hold_operation_id_ops_operation"), type_="foreignkey"
        )
        batch_op.drop_column("operation_id")
        batch_op.drop_column("wide")
    with op.batch_alter_table("bank", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bank_owner_agency_id_api_agency"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_bank_owner_agency_id"))
        batch_op.drop_column("sharing")
        batch_op.drop_column("owner_agency_id")
