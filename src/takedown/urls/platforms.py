"""The platform registry: online services, their domains, and how to refer content to them.

The packaged data file (``data/platforms.json``) lists the services; operators fill in the
``referral`` fields (web form, email, API, notes) in override files merged by key: an override
entry may give only ``key`` and ``referral`` (or any other field), or a whole new platform.

A host is attributed to the platform that claims the longest matching domain suffix
(``foo.blogspot.com`` -> Blogger, ``sites.google.com`` -> Google Sites although ``google.com``
is not claimed); the lookup walks the host's suffixes through one dict, so attribution costs a
few dict probes. A host nobody claims is attributed to ``unknown:<registrable domain>`` (or
the IP address): never dropped.

Loading validates everything and raises :class:`RegistryError` naming the file and entry:
missing fields, bad keys, unknown kinds, duplicate keys, a domain listed twice or claimed by two
platforms, malformed domains, regexes that do not compile, referral fields of the wrong type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from takedown.urls.canon import CanonicalURL

REFERRAL_FIELDS = ("web_form", "email", "api", "notes")
KINDS = frozenset(
    {
        "social", "video", "audio", "messaging", "file_locker", "cloud_storage", "paste", "blog",
        "forum", "archive", "shortener", "image_host", "decentralized", "hosting", "document",
        "code", "link_page", "browser_addon", "app_store", "other",
    }
)  # fmt: skip
_KEY = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$"
)
_FIELDS = frozenset({"key", "name", "kind", "domains", "url_patterns", "removed_patterns"})


class RegistryError(ValueError):
    """A registry data file that is malformed or contradicts itself."""


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    kind: str
    domains: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()  # regexes matching canonical URLs of items
    removed_patterns: tuple[str, ...] = ()  # texts of "this content was removed" pages
    referral: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    known: bool = True

    def is_item(self, url: str) -> bool:
        """True when a canonical URL matches one of the platform's item patterns."""
        return any(_compiled(p).search(url) for p in self.url_patterns)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=65536)
def unknown(domain: str) -> Platform:
    """The stand-in platform for a domain (or IP) that no registry entry claims."""
    return Platform(
        key=f"unknown:{domain}",
        name=f"unknown: {domain}",
        kind="unknown",
        referral=MappingProxyType(dict.fromkeys(REFERRAL_FIELDS)),
        known=False,
    )


def _strings(raw: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistryError(f"{where}: {name!r} must be a list of strings")
    return tuple(value)


def _referral(raw: Any, where: str) -> Mapping[str, str | None]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: 'referral' must be an object")
    extra = set(raw) - set(REFERRAL_FIELDS)
    if extra:
        raise RegistryError(f"{where}: unknown referral fields {sorted(extra)}")
    for name, value in raw.items():
        if value is not None and not isinstance(value, str):
            raise RegistryError(f"{where}: referral {name!r} must be a string or null")
    return MappingProxyType({name: raw.get(name) for name in REFERRAL_FIELDS})


def _entry(raw: Any, source: str) -> Platform:
    if not isinstance(raw, dict):
        raise RegistryError(f"{source}: a platform must be an object, got {type(raw).__name__}")
    key = raw.get("key")
    where = f"{source}: platform {key!r}"
    for name in ("key", "name", "kind"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise RegistryError(f"{where}: {name!r} is missing or not a string")
    extra = set(raw) - _FIELDS - {"referral"}
    if extra:
        raise RegistryError(f"{where}: unknown fields {sorted(extra)}")
    if not _KEY.match(raw["key"]):
        raise RegistryError(f"{where}: key must match {_KEY.pattern}")
    if raw["kind"] not in KINDS:
        raise RegistryError(f"{where}: unknown kind {raw['kind']!r} (one of {sorted(KINDS)})")
    domains = _strings(raw, "domains", where)
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise RegistryError(f"{where}: bad domain {domain!r} (lower-case A-labels only)")
    if len(set(domains)) != len(domains):
        raise RegistryError(f"{where}: a domain is listed twice")
    patterns = _strings(raw, "url_patterns", where)
    for pattern in patterns:
        try:
            _compiled(pattern)
        except re.error as exc:
            raise RegistryError(f"{where}: bad url pattern {pattern!r}: {exc}") from exc
    removed = _strings(raw, "removed_patterns", where)
    referral = _referral(raw.get("referral"), where)
    return Platform(raw["key"], raw["name"], raw["kind"], domains, patterns, removed, referral)


def _read(path: Path | None) -> list[Any]:
    source = str(path) if path is not None else "takedown/urls/data/platforms.json"
    try:
        if path is None:
            resource = files("takedown.urls").joinpath("data/platforms.json")
            text = resource.read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{source}: cannot read: {exc}") from exc
    items = data.get("platforms") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RegistryError(f"{source}: expected a list of platforms (or {{'platforms': [...]}})")
    return items


def _merge(base: dict[str, Any] | None, raw: dict[str, Any], source: str) -> dict[str, Any]:
    if base is None:
        return raw
    referral = raw.get("referral", {})
    if not isinstance(referral, dict):
        raise RegistryError(f"{source}: platform {raw['key']!r}: 'referral' must be an object")
    return {**base, **raw, "referral": {**(base.get("referral") or {}), **referral}}


class PlatformRegistry:
    def __init__(self, platforms: list[Platform]) -> None:
        self._by_key: dict[str, Platform] = {}
        self._by_domain: dict[str, Platform] = {}
        for platform in platforms:
            if platform.key in self._by_key:
                raise RegistryError(f"platform key {platform.key!r} listed twice")
            self._by_key[platform.key] = platform
            for domain in platform.domains:
                other = self._by_domain.get(domain)
                if other is not None:
                    raise RegistryError(
                        f"domain {domain} claimed by both {other.key!r} and {platform.key!r}"
                    )
                self._by_domain[domain] = platform

    @classmethod
    def load_default(cls) -> PlatformRegistry:
        """The packaged registry."""
        return cls.load()

    @classmethod
    def load(cls, *paths: Path) -> PlatformRegistry:
        """The packaged registry with operator override files merged in, by key, in order."""
        source = "takedown/urls/data/platforms.json"
        defaults = _read(None)
        keys = [raw.get("key") if isinstance(raw, dict) else None for raw in defaults]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise RegistryError(f"{source}: platform keys listed twice: {duplicates}")
        merged: dict[str, dict[str, Any]] = {}
        for raw in defaults:
            platform = _entry(raw, source)
            merged[platform.key] = raw
        for path in paths:
            for raw in _read(path):
                if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
                    raise RegistryError(f"{path}: every override must be an object with a key")
                merged[raw["key"]] = _merge(merged.get(raw["key"]), raw, str(path))
        return cls([_entry(raw, "platforms (merged)") for raw in merged.values()])

    def attribute(self, url: CanonicalURL) -> Platform:
        """The platform serving ``url``: longest claimed domain suffix, else ``unknown:…``."""
        host = url.host
        by_domain = self._by_domain
        while True:
            platform = by_domain.get(host)
            if platform is not None:
                return platform
            dot = host.find(".")
            if dot < 0:
                return unknown(url.registrable_domain or url.host)
            host = host[dot + 1 :]

    def get(self, key: str) -> Platform:
        """The platform with ``key``; ``unknown:<domain>`` keys give their stand-in."""
        if key.startswith("unknown:") and len(key) > len("unknown:"):
            return unknown(key.removeprefix("unknown:"))
        return self._by_key[key]

    def with_referral(self, key: str, **fields: str | None) -> Platform:
        """``key``'s platform with some referral fields replaced (the registry is unchanged)."""
        platform = self.get(key)
        return replace(platform, referral=MappingProxyType({**platform.referral, **fields}))

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
