from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import idna
import pytest

from takedown.urls import KINDS, PlatformRegistry, RegistryError, canonicalize
from takedown.urls.platform_forms import HOST_ALIASES, HTTPS_ONLY

REGISTRY = PlatformRegistry.load_default()


def _write(path: Path, platforms: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"platforms": platforms}), encoding="utf-8")
    return path


def test_the_registry_lists_at_least_120_services_of_every_needed_kind() -> None:
    assert len(REGISTRY) >= 120
    kinds = {p.kind for p in REGISTRY}
    for needed in ("social", "video", "file_locker", "paste", "messaging", "archive"):
        assert needed in kinds
    assert kinds <= KINDS


def test_every_domain_is_a_valid_lower_case_a_label_claimed_once() -> None:
    seen: dict[str, str] = {}
    for platform in REGISTRY:
        assert platform.known and platform.domains, platform.key
        for domain in platform.domains:
            assert domain == domain.lower().strip(".")
            idna.encode(domain, uts46=False)  # raises on an invalid name
            assert canonicalize(f"https://{domain}/").registrable_domain is not None
            assert domain not in seen, (domain, seen.get(domain), platform.key)
            seen[domain] = platform.key


def test_every_pattern_compiles_and_referral_fields_are_left_blank() -> None:
    for platform in REGISTRY:
        for pattern in platform.url_patterns:
            re.compile(pattern)
        assert set(platform.referral) == {"web_form", "email", "api", "notes"}
        assert platform.referral["email"] is None and platform.referral["web_form"] is None


def test_every_canonical_platform_host_is_claimed() -> None:
    for host in sorted(set(HOST_ALIASES.values()) | HTTPS_ONLY):
        assert REGISTRY.attribute(canonicalize(f"https://{host}/x")).known, host


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://foo.blogspot.com/p/1", "blogger"),
        ("https://www.youtube.com/watch?v=abcdefghijk", "youtube"),
        ("youtu.be/abcdefghijk", "youtube"),
        ("https://i.imgur.com/a.png", "imgur"),
        ("https://sites.google.com/view/x", "google_sites"),
        ("https://drive.google.com/file/d/1/view", "google_drive"),
        ("https://telegram.me/x_chan", "telegram"),
        ("https://chat.whatsapp.com/AbC", "whatsapp"),
        ("https://archive.is/AbCd1", "archive_today"),
        ("https://web.archive.org/web/2024/https://t.me/chan", "archive_org"),
        ("https://mastodon.social/@x", "mastodon_social"),
        ("https://bit.ly/x", "bitly"),
    ],
)
def test_hosts_are_attributed_by_longest_domain_suffix(url: str, key: str) -> None:
    assert REGISTRY.attribute(canonicalize(url)).key == key


def test_unknown_domains_are_attributed_not_dropped() -> None:
    platform = REGISTRY.attribute(canonicalize("https://news.outlet-example.co.uk/a"))
    assert (platform.key, platform.name, platform.kind, platform.known) == (
        "unknown:outlet-example.co.uk",
        "unknown: outlet-example.co.uk",
        "unknown",
        False,
    )
    assert REGISTRY.attribute(canonicalize("http://192.0.2.1/x")).key == "unknown:192.0.2.1"
    assert REGISTRY.get("unknown:outlet-example.co.uk") == platform


def test_get_raises_key_error_for_a_missing_key() -> None:
    with pytest.raises(KeyError):
        REGISTRY.get("no_such_platform")
    assert REGISTRY.get("telegram").name == "Telegram"


def test_item_patterns_match_canonical_item_urls() -> None:
    youtube = REGISTRY.get("youtube")
    assert youtube.is_item(canonicalize("youtu.be/abcdefghijk").url)
    assert not youtube.is_item(canonicalize("https://www.youtube.com/about").url)


def test_overrides_fill_in_contacts_and_keep_the_rest(tmp_path: Path) -> None:
    override = _write(
        tmp_path / "contacts.json",
        [{"key": "justpaste", "referral": {"email": "abuse@example.org", "notes": "24h"}}],
    )
    registry = PlatformRegistry.load(override)
    platform = registry.get("justpaste")
    assert platform.referral["email"] == "abuse@example.org"
    assert platform.referral["notes"] == "24h" and platform.referral["web_form"] is None
    assert platform.domains == REGISTRY.get("justpaste").domains
    assert REGISTRY.get("justpaste").referral["email"] is None


def test_later_overrides_win_and_may_add_platforms(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.json", [{"key": "mega", "referral": {"email": "a@example.org"}}])
    second = _write(
        tmp_path / "b.json",
        [
            {"key": "mega", "referral": {"email": "b@example.org"}},
            {
                "key": "local_forum",
                "name": "Local forum",
                "kind": "forum",
                "domains": ["forum.example"],
            },
        ],
    )
    registry = PlatformRegistry.load(first, second)
    assert registry.get("mega").referral["email"] == "b@example.org"
    assert registry.attribute(canonicalize("https://x.forum.example/t/1")).key == "local_forum"
    assert len(registry) == len(REGISTRY) + 1


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"key": "dup", "name": "A", "kind": "forum", "domains": ["mega.nz"]}], "claimed by both"),
        ([{"key": "Bad Key", "name": "A", "kind": "forum"}], "key must match"),
        ([{"key": "x1", "name": "A", "kind": "nonsense"}], "unknown kind"),
        ([{"key": "x1", "name": "A", "kind": "forum", "domains": ["Bad_Domain"]}], "bad domain"),
        ([{"key": "x1", "name": "A", "kind": "forum", "domains": "a.org"}], "list of strings"),
        ([{"key": "x1", "name": "A", "kind": "forum", "url_patterns": ["("]}], "bad url pattern"),
        ([{"key": "x1", "name": "A", "kind": "forum", "domains": ["a.org", "a.org"]}], "twice"),
        ([{"key": "x1", "kind": "forum"}], "'name' is missing"),
        ([{"key": "mega", "referral": "abuse@example.org"}], "must be an object"),
        ([{"key": "mega", "referral": {"phone": "1"}}], "unknown referral fields"),
        ([{"key": "mega", "referral": {"email": 7}}], "string or null"),
        ([{"name": "no key"}], "with a key"),
    ],
)
def test_bad_registry_data_is_refused_with_a_clear_error(
    tmp_path: Path, entries: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        PlatformRegistry.load(_write(tmp_path / "bad.json", entries))


def test_unreadable_override_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="cannot read"):
        PlatformRegistry.load(broken)
    with pytest.raises(RegistryError, match="cannot read"):
        PlatformRegistry.load(tmp_path / "missing.json")


def test_duplicate_keys_in_one_registry_are_refused() -> None:
    platform = REGISTRY.get("mega")
    with pytest.raises(RegistryError, match="listed twice"):
        PlatformRegistry([platform, platform])
