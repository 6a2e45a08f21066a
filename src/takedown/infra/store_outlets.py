"""Outlets: named groups of domains and/or a bank label whose matched sightings belong."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from takedown.infra.facts import LabelError, host_name, text_label
from takedown.infra.models import InfraOutlet, InfraOutletDomain
from takedown.store.models import BankEntry, Match, Platform, Sighting


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


@cache
def platform_claimed_domains() -> frozenset[str]:
    """Every domain the platform registry claims, and the parents of those domains.

    ``drive.google.com`` is claimed by Google Drive, so ``google.com`` (the registrable domain
    of an unclaimed ``evil.google.com``) is a platform's domain too, never an outlet's.
    """
    from takedown.urls.platforms import PlatformRegistry

    out: set[str] = set()
    for platform in PlatformRegistry.load_default():
        for domain in platform.domains:
            labels = domain.lower().split(".")
            out.update(".".join(labels[i:]) for i in range(len(labels) - 1))
    return frozenset(out)


def outlet_domains(session: Session, outlet: InfraOutlet) -> list[str]:
    """Explicit members plus the registrable domains of sightings matched under its label.

    Sightings on known platforms (a ``platform_key`` that is not ``unknown:…``, or a platform
    row marked known) and domains a platform claims are left out: a label's matches on
    facebook.com or google.com do not make those domains part of the outlet.
    """
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
            .outerjoin(Platform, Platform.key == Sighting.platform_key)
            .where(
                Match.state == "active",
                Sighting.registrable_domain.is_not(None),
                or_(Sighting.platform_key.is_(None), Sighting.platform_key.like("unknown:%")),
                or_(Platform.known.is_(None), Platform.known.is_(False)),
            )
        )
        claimed = platform_claimed_domains()
        for domain, labels in rows:
            if domain and domain not in claimed and _label_matches(labels, outlet.label):
                domains.add(domain)
    return sorted(domains)
