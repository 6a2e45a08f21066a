"""The platform registry: online services, their domains, and how to refer to them.

The packaged data file (``data/platforms.json``) lists the services; operators fill in the
``referral`` fields (web form, email, API) in an override file merged by key. A host is
attributed to the platform that claims the longest matching domain suffix; a host nobody
claims is attributed to ``unknown:<registrable domain>`` and never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from takedown.urls.canon import CanonicalURL

REFERRAL_FIELDS = ("web_form", "email", "api", "notes")


class RegistryError(ValueError):
    """A registry data file that is malformed or contradicts itself."""


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    kind: str
    domains: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()
    removed_patterns: tuple[str, ...] = ()
    referral: Mapping[str, str | None] = field(default_factory=dict)
    known: bool = True


def unknown(domain: str) -> Platform:
    return Platform(key=f"unknown:{domain}", name=f"unknown: {domain}", kind="unknown", known=False)


def _entry(raw: Any, source: str) -> Platform:
    if not isinstance(raw, dict):
        raise RegistryError(f"{source}: a platform must be an object")
    try:
        key, name, kind = str(raw["key"]), str(raw["name"]), str(raw["kind"])
    except KeyError as exc:
        raise RegistryError(f"{source}: platform lacks {exc.args[0]!r}") from exc
    if not re.fullmatch(r"[a-z0-9_]{1,64}", key):
        raise RegistryError(f"{source}: bad platform key {key!r}")
    domains = tuple(str(d).lower().strip(".") for d in raw.get("domains", []))
    for domain in domains:
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            raise RegistryError(f"{source}: platform {key}: bad domain {domain!r}")
    patterns = tuple(str(p) for p in raw.get("url_patterns", []))
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RegistryError(
                f"{source}: platform {key}: bad pattern {pattern!r}: {exc}"
            ) from exc
    referral = {f: raw.get("referral", {}).get(f) for f in REFERRAL_FIELDS}
    removed = tuple(str(p) for p in raw.get("removed_patterns", []))
    return Platform(key, name, kind, domains, patterns, removed, referral)


def _read(path: Path | None) -> list[Any]:
    text = (
        files("takedown.urls").joinpath("data/platforms.json").read_text(encoding="utf-8")
        if path is None
        else path.read_text(encoding="utf-8")
    )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path or 'platforms.json'}: not JSON: {exc}") from exc
    items = data.get("platforms") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RegistryError(f"{path or 'platforms.json'}: expected a list of platforms")
    return items


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
                        f"domain {domain} claimed by {other.key} and {platform.key}"
                    )
                self._by_domain[domain] = platform

    @classmethod
    def load_default(cls) -> PlatformRegistry:
        return cls.load()

    @classmethod
    def load(cls, *overrides: Path) -> PlatformRegistry:
        """The packaged registry with operator override files merged in by key.

        An override entry may give only ``key`` and ``referral`` to fill in contacts, or a
        whole new platform.
        """
        merged: dict[str, Any] = {}
        for raw in _read(None):
            merged[str(raw.get("key"))] = raw
        for path in overrides:
            for raw in _read(path):
                if not isinstance(raw, dict) or "key" not in raw:
                    raise RegistryError(f"{path}: every override needs a key")
                base = dict(merged.get(str(raw["key"]), {}))
                referral = {**base.get("referral", {}), **raw.get("referral", {})}
                merged[str(raw["key"])] = {**base, **raw, "referral": referral}
        return cls([_entry(raw, "platforms") for raw in merged.values()])

    def attribute(self, url: CanonicalURL) -> Platform:
        host = url.host
        while True:
            platform = self._by_domain.get(host)
            if platform is not None:
                return platform
            if "." not in host:
                break
            host = host.split(".", 1)[1]
        return unknown(url.registrable_domain or url.host)

    def get(self, key: str) -> Platform:
        if key.startswith("unknown:"):
            return unknown(key.removeprefix("unknown:"))
        return self._by_key[key]

    def with_referral(self, key: str, **fields: str | None) -> Platform:
        platform = self.get(key)
        return replace(platform, referral={**platform.referral, **fields})

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
