from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takedown.verify.ssrf import ForbiddenAddress, is_forbidden, parse_ip_literal, vet_address

FORBIDDEN = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "[::1]",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:0001::",
    "2130706433",  # decimal 127.0.0.1
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",  # hex
    "0x7f000001",
    "127.1",
    "0xa9.0xfe.0xa9.0xfe",  # 169.254.169.254
    "017700000001",
]


@pytest.mark.parametrize("host", FORBIDDEN)
def test_non_public_addresses_and_disguised_literals_are_refused(host: str) -> None:
    with pytest.raises(ForbiddenAddress):
        vet_address(host)


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(host: str) -> None:
    assert str(vet_address(host)) == str(ipaddress.ip_address(host))


def test_disguised_literals_parse_like_inet_aton() -> None:
    assert str(parse_ip_literal("2130706433")) == "127.0.0.1"
    assert str(parse_ip_literal("0177.0.0.1")) == "127.0.0.1"
    assert str(parse_ip_literal("0x7f.1")) == "127.0.0.1"
    assert str(parse_ip_literal("10.1")) == "10.0.0.1"
    assert parse_ip_literal("example.org") is None
    assert parse_ip_literal("999.1.1.1") is None


def test_loopback_switch_allows_loopback_only() -> None:
    assert str(vet_address("127.0.0.1", allow_loopback=True)) == "127.0.0.1"
    with pytest.raises(ForbiddenAddress):
        vet_address("169.254.169.254", allow_loopback=True)
    with pytest.raises(ForbiddenAddress):
        vet_address("10.0.0.1", allow_loopback=True)


def test_host_map_allows_exactly_the_mapped_target() -> None:
    allowed = frozenset({"127.0.0.1"})
    assert str(vet_address("127.0.0.1", allowed=allowed)) == "127.0.0.1"
    with pytest.raises(ForbiddenAddress):
        vet_address("127.0.0.2", allowed=allowed)


def test_names_are_not_addresses() -> None:
    with pytest.raises(ForbiddenAddress):
        vet_address("localhost")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_decimal_form_denotes_the_same_address(n: int) -> None:
    addr = ipaddress.IPv4Address(n)
    assert parse_ip_literal(str(n)) == addr
    assert parse_ip_literal(hex(n)) == addr
    assert is_forbidden(ipaddress.IPv6Address(f"::ffff:{addr}")) or not is_forbidden(addr)


@given(st.text(max_size=40))
def test_parser_never_crashes(text: str) -> None:
    result = parse_ip_literal(text)
    assert result is None or isinstance(result, ipaddress.IPv4Address | ipaddress.IPv6Address)
