"""Tables of the infra feature (on the shared Base; see takedown.store.schema).

* ``infra_node`` — a typed node (domain, hostname, ip, network, hoster, country, registrar,
  name server, certificate, analytics id, registrant) with its attributes (abuse contact,
  registration dates, flags such as ``private`` IPs or ``wildcard`` names);
* ``infra_edge`` — a typed fact between two nodes from one source, with first/last seen (a
  fact seen again widens its window: the table is the graph's history in time);
* ``infra_range`` — IP ranges from IP-to-ASN tables, RDAP and WHOIS (ASN, holder, country,
  abuse contact), used to link IPs to networks;
* ``infra_outlet`` / ``infra_outlet_domain`` — outlets the analyst defines: a named group of
  domains and/or a bank label whose matched sightings' domains belong to it;
* ``infra_event`` — a takedown action (seized, suspended...) and its targets;
* ``infra_alert`` — a possible re-establishment after an event, with its evidence.

Sightings are joined by host and registrable domain (``sighting.host`` /
``sighting.registrable_domain`` equal to a hostname / domain node's label).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.store.models import Base, utcnow

__all__ = [
    "Base",
    "InfraAlert",
    "InfraEdge",
    "InfraEvent",
    "InfraNode",
    "InfraOutlet",
    "InfraOutletDomain",
    "InfraRange",
]


class InfraNode(Base):
    __tablename__ = "infra_node"
    __table_args__ = (UniqueConstraint("kind", "label", name="uq_infra_node_kind_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(255))
    attrs: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InfraEdge(Base):
    __tablename__ = "infra_edge"
    __table_args__ = (
        UniqueConstraint("kind", "src_id", "dst_id", "source", name="uq_infra_edge_fact"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    src_id: Mapped[int] = mapped_column(ForeignKey("infra_node.id"), index=True)
    dst_id: Mapped[int] = mapped_column(ForeignKey("infra_node.id"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime | None] = mapped_column(default=None)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))


class InfraRange(Base):
    __tablename__ = "infra_range"
    __table_args__ = (
        UniqueConstraint("version", "start_key", "end_key", "source", name="uq_infra_range_span"),
        Index("ix_infra_range_start", "version", "start_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    start_key: Mapped[str] = mapped_column(String(32))  # 32 hex digits, sorts as the number
    end_key: Mapped[str] = mapped_column(String(32))
    asn: Mapped[int | None] = mapped_column(BigInteger)
    country: Mapped[str | None] = mapped_column(String(2))
    holder: Mapped[str | None] = mapped_column(String(255))
    abuse_email: Mapped[str | None] = mapped_column(String(254))
    handle: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime | None] = mapped_column(default=None)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))


class InfraOutlet(Base):
    __tablename__ = "infra_outlet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))  # bank label, e.g. "outlet:name"
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InfraOutletDomain(Base):
    __tablename__ = "infra_outlet_domain"
    __table_args__ = (
        UniqueConstraint("outlet_id", "domain", name="uq_infra_outlet_domain_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("infra_outlet.id"))
    domain: Mapped[str] = mapped_column(String(255), index=True)


class InfraEvent(Base):
    __tablename__ = "infra_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("infra_outlet.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # seized | suspended | blocked | ...
    at: Mapped[datetime] = mapped_column()
    targets: Mapped[dict[str, Any]] = mapped_column()  # {"nodes": [{"kind", "label"}]}
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))
    operation: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class InfraAlert(Base):
    __tablename__ = "infra_alert"
    __table_args__ = (UniqueConstraint("event_id", "kind", "label", name="uq_infra_alert_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("infra_event.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # domain | ip
    label: Mapped[str] = mapped_column(String(255))
    first_seen: Mapped[datetime | None] = mapped_column(default=None)
    evidence: Mapped[dict[str, Any]] = mapped_column()
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
