"""Roles of people, scopes of API keys, and what each allows: the one table of permissions.

A person (workspace user) holds one *role* in one agency; an API key holds *scopes* and is
bound to one agency or one platform. Every face asks :func:`allowed` (roles) or checks a
key's scopes; ``docs/security.md`` is the written model these tables implement.
"""

from __future__ import annotations

#: Every scope a key can hold, and what it allows.
SCOPES: dict[str, str] = {
    "read": "list and read sightings, content, clusters, banks and entries",
    "submit": "submit sightings and content (URL, file, batch)",
    "lookup": "match lookup by hash or by file",
    "banks:write": "create banks and add or remove entries",
    "referrals": "list and send referrals (agency side)",
    "referrals:respond": "answer the referrals addressed to the key's platform",
    "figures": "read figures and checks",
}
#: A key bound to a platform may hold only these.
PLATFORM_SCOPES = frozenset({"lookup", "referrals:respond"})

#: Roles of the people of an agency, most powerful first.
ROLES: tuple[str, ...] = (
    "administrator",
    "coordinator",
    "analyst",
    "reviewer",
    "liaison",
    "read-only",
)
#: Older or shorter spellings, read as these roles.
ROLE_ALIASES = {"admin": "administrator", "readonly": "read-only", "read_only": "read-only"}

#: Permissions (what a role may do). ``hold_wide``: a hold on a whole platform's domain, a
#: label, or a PDQ radius over :data:`takedown.access.holds.NARROW_PDQ`.
PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset(
        {
            "read",
            "submit",
            "review",
            "refer",
            "respond",
            "hold",
            "hold_wide",
            "operate",
            "share",
            "administer",
        }
    ),
    "coordinator": frozenset(
        {"read", "submit", "review", "refer", "hold", "hold_wide", "operate", "share"}
    ),
    "analyst": frozenset({"read", "submit", "review", "refer", "hold", "share"}),
    "reviewer": frozenset({"read", "review", "refer"}),
    "liaison": frozenset({"read", "refer", "respond"}),
    "read-only": frozenset({"read"}),
}
#: Every permission a page or route can require.
ACTIONS: frozenset[str] = frozenset().union(*PERMISSIONS.values())


class UnknownRole(ValueError):
    """A role name that is none of :data:`ROLES` (nor an alias)."""


def normalise_role(role: str) -> str:
    name = ROLE_ALIASES.get(role.strip().lower(), role.strip().lower())
    if name not in ROLES:
        raise UnknownRole(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
    return name


def allowed(role: str, action: str) -> bool:
    """May a person of ``role`` do ``action``? Unknown roles and actions may nothing."""
    try:
        return action in PERMISSIONS[normalise_role(role)]
    except UnknownRole:
        return False
