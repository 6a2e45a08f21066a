"""infra graph, ranges, outlets, takedown events and alerts

Revision ID: 0030
Revises: 0002
Create Date: 2026-11-30 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import takedown.store.models

revision = "0030"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = takedown.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "infra_node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("attrs", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_node")),
        sa.UniqueConstraint("kind", "label", name="uq_infra_node_kind_label"),
    )
    op.create_table(
        "infra_outlet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_outlet")),
        sa.UniqueConstraint("name", name=op.f("uq_infra_outlet_name")),
    )
    op.create_table(
        "infra_edge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("src_id", sa.Integer(), nullable=False),
        sa.Column("dst_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("first_seen", UTC(timezone=True), nullable=True),
        sa.Column("last_seen", UTC(timezone=True), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dst_id"], ["infra_node.id"], name=op.f("fk_infra_edge_dst_id_infra_node")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_run.id"], name=op.f("fk_infra_edge_import_id_import_run")
        ),
        sa.ForeignKeyConstraint(
            ["src_id"], ["infra_node.id"], name=op.f("fk_infra_edge_src_id_infra_node")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_edge")),
        sa.UniqueConstraint("kind", "src_id", "dst_id", "source", name="uq_infra_edge_fact"),
    )
    with op.batch_alter_table("infra_edge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infra_edge_dst_id"), ["dst_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_infra_edge_src_id"), ["src_id"], unique=False)
    op.create_table(
        "infra_range",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("start_key", sa.String(length=32), nullable=False),
        sa.Column("end_key", sa.String(length=32), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("abuse_email", sa.String(length=254), nullable=True),
        sa.Column("handle", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("first_seen", UTC(timezone=True), nullable=True),
        sa.Column("last_seen", UTC(timezone=True), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_run.id"], name=op.f("fk_infra_range_import_id_import_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_range")),
        sa.UniqueConstraint(
            "version", "start_key", "end_key", "source", name="uq_infra_range_span"
        ),
    )
    with op.batch_alter_table("infra_range", schema=None) as batch_op:
        batch_op.create_index("ix_infra_range_start", ["version", "start_key"], unique=False)
    op.create_table(
        "infra_outlet_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["infra_outlet.id"],
            name=op.f("fk_infra_outlet_domain_outlet_id_infra_outlet"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_outlet_domain")),
        sa.UniqueConstraint("outlet_id", "domain", name="uq_infra_outlet_domain_member"),
    )
    with op.batch_alter_table("infra_outlet_domain", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infra_outlet_domain_domain"), ["domain"], unique=False)
    op.create_table(
        "infra_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("operation", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["infra_outlet.id"], name=op.f("fk_infra_event_outlet_id_infra_outlet")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_event")),
    )
    with op.batch_alter_table("infra_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infra_event_outlet_id"), ["outlet_id"], unique=False)
    op.create_table(
        "infra_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("first_seen", UTC(timezone=True), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("raised_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["infra_event.id"], name=op.f("fk_infra_alert_event_id_infra_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infra_alert")),
        sa.UniqueConstraint("event_id", "kind", "label", name="uq_infra_alert_subject"),
    )
    with op.batch_alter_table("infra_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infra_alert_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("infra_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infra_alert_event_id"))
    op.drop_table("infra_alert")
    with op.batch_alter_table("infra_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infra_event_outlet_id"))
    op.drop_table("infra_event")
    with op.batch_alter_table("infra_outlet_domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infra_outlet_domain_domain"))
    op.drop_table("infra_outlet_domain")
    with op.batch_alter_table("infra_range", schema=None) as batch_op:
        batch_op.drop_index("ix_infra_range_start")
    op.drop_table("infra_range")
    with op.batch_alter_table("infra_edge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infra_edge_src_id"))
        batch_op.drop_index(batch_op.f("ix_infra_edge_dst_id"))
    op.drop_table("infra_edge")
    op.drop_table("infra_outlet")
    op.drop_table("infra_node")
