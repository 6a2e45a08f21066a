"""Outlets: named groups of domains and/or a bank label whose matched sightings belong."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.infra.facts import LabelError, host_name, text_label
from takedown.infra.models import InfraOutlet, InfraOutletDomain
from takedown.store.models import BankEntry, Match, Sighting


class OutletError(ValueError):
    """Unknown outlet or bad outlet definition."""


def define_outlet(
    session: Session,
    name: str,
    domains: Iterable[str] = (),
    *,
    label: str | None = None,
    description: str | None = None,
) -> InfraOutlet:
    """Creates or extends an outlet: a named group of domains and/or a bank label."""
    name = text_label(name, "outlet name")
    if len(name) > 200 or (label is not None and len(label) > 200):
        raise OutletError("outlet name and label are limited to 200 characters")
    outlet = session.scalar(select(InfraOutlet).where(InfraOutlet.name == name))
    if outlet is None:
        outlet = InfraOutlet(name=name)
        session.add(outlet)
        session.flush()
    if label is not None:
        try:
            outlet.label = text_label(label, "label")
        except LabelError as exc:
            raise OutletError(str(exc)) from exc
    if description is not None:
        outlet.description = description
    have = set(
        session.scalars(
            select(InfraOutletDomain.domain).where(InfraOutletDomain.outlet_id == outlet.id)
        )
    )
    for raw in domains:
        try:
            domain = host_name(raw).label
        except LabelError as exc:
            raise OutletError(f"domain {raw[:80]!r}: {exc}") from exc
        if domain not in have:
            session.add(InfraOutletDomain(outlet_id=outlet.id, domain=domain))
            have.add(domain)
    session.flush()
    return outlet


def get_outlet(session: Session, name: str) -> InfraOutlet:
    outlet = session.scalar(select(InfraOutlet).where(InfraOutlet.name == name))
    if outlet is None:
        known = list(session.scalars(select(InfraOutlet.name).order_by(InfraOutlet.name)))
        raise OutletError(f"unknown outlet {name!r} (known: {', '.join(known[:20]) or 'none'})")
    return outlet


def _label_matches(labels: dict[str, Any] | None, wanted: str) -> bool:
    name, _, value = wanted.partition(":")
    got = (labels or {}).get(name)
    if not value:
        return got is True or bool(got)
    return got == value or (isinstance(got, list) and value in got)


def outlet_domains(session: Session, outlet: InfraOutlet) -> list[str]:
    """Explicit members plus the registrable domains of sightings matched under its label."""
    domains = set(
        session.scalars(
            select(InfraOutletDomain.domain).where(InfraOutletDomain.outlet_id == outlet.id)
        )
    )
    if outlet.label:
        rows = session.execute(
            select(Sighting.registrable_domain, BankEntry.labels)
            .join(
                Match,
                (Match.content_id == Sighting.content_id) | (Match.sighting_id == Sighting.id),
            )
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .where(Match.state == "active", Sighting.registrable_domain.is_not(None))
        )
        for domain, labels in rows:
            if domain and _label_matches(labels, outlet.label):
                domains.add(domain)
    return sorted(domains)
