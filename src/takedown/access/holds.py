"""Scope limits of deconfliction holds: what one agency may hold against everyone.

A hold blocks every *other* agency's referrals of what it covers, so its reach is bounded:

* **narrow** (any role allowed to ``hold``, and API keys with the hold scope): a URL; a
  domain that is neither a public suffix nor a platform's own domain (or a parent of one);
  an exact signal (``sha256:``, ``md5:``…); a PDQ hash within :data:`NARROW_PDQ` bits.
* **wide** (only a role allowed to ``hold_wide`` — coordinator, administrator — in the
  workspace or the CLI, never an API key): a platform's whole domain (``t.me``,
  ``www.t.me``, ``x.com``…); a label (it covers every agency's material of a bank label);
  a PDQ radius over :data:`NARROW_PDQ`. A wide hold names an operation the agency takes part
  in: the operation's lead agency (its coordinator) sees it (:func:`wide_holds_seen_by`),
  and the hold's row, like every change, is in the audit chain.
* **never**, for anyone: a public suffix (``com``, ``co.uk``, ``blogspot.com``…); a PDQ
  radius over :data:`MAX_PDQ` (distinct photos lie ~106-130 bits apart: a radius of 128 from
  any hash covers about half of all images).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from publicsuffixlist import PublicSuffixList

#: the largest PDQ radius anyone allowed to hold may place (the matching default)
NARROW_PDQ = 31
#: the largest PDQ radius anyone may place (a coordinator's wide hold)
MAX_PDQ = 63


class HoldScopeError(ValueError):
    """A hold wider than the placer may place (the message says why; safe to show)."""


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@cache
def default_platform_domains() -> frozenset[str]:
    from takedown.urls.platforms import PlatformRegistry

    return frozenset(d.lower() for p in PlatformRegistry.load_default() for d in p.domains)


def _covers(domain: str, platform_domain: str) -> bool:
    """A hold on ``domain`` covers the whole of ``platform_domain``."""
    return platform_domain == domain or platform_domain.endswith("." + domain)


def wide_reason(
    kind: str,
    value: str,
    max_distance: int | None,
    platform_domains: Iterable[str] | None = None,
) -> str | None:
    """Why a (normalised) hold is wide, or None when it is narrow. Raises
    :class:`HoldScopeError` for a hold no one may place."""
    if kind == "domain":
        domain = value.lower().rstrip(".")
        if _psl().is_public(domain) or _psl().privatesuffix(domain) is None:
            raise HoldScopeError(f"{value!r} is a public suffix: no one may hold all of it")
        bare = domain.removeprefix("www.")
        domains = default_platform_domains() if platform_domains is None else platform_domains
        for platform in domains:
            if _covers(bare, platform.lower()) or _covers(domain, platform.lower()):
                return f"{value!r} is the domain of a whole platform ({platform})"
        return None
    if kind == "label":
        return "a label hold covers every agency's material with that label"
    if kind == "signal" and value.startswith("pdq:"):
        distance = NARROW_PDQ if max_distance is None else max_distance
        if distance > MAX_PDQ:
            raise HoldScopeError(f"a pdq hold's distance lies in 0..{MAX_PDQ}")
        if distance > NARROW_PDQ:
            return f"a pdq radius over {NARROW_PDQ} bits"
    return None


def check_scope(reason: str | None, *, may_hold_wide: bool, operation_id: int | None) -> None:
    """Refuse a wide hold placed without the right or outside an operation."""
    if reason is None:
        return
    if not may_hold_wide:
        raise HoldScopeError(
            f"a wide hold ({reason}) needs a coordinator, in the workspace or the CLI"
        )
    if operation_id is None:
        raise HoldScopeError(
            f"a wide hold ({reason}) names an operation your agency takes part in "
            "(its lead agency sees the hold)"
        )
