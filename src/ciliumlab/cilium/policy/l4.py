"""Layer-4 matching: ports, ranges, protocols, named ports, ICMP types (spec §10.3, §11).

A port rule becomes one or more `L4Match` values: a set of IANA protocol numbers plus an
inclusive port range (0..65535 = wildcard port). ICMP rules reuse the shape with the ICMP type
in the port field, as Cilium's policy map does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .types import PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP

PROTO_NUMBERS = {"TCP": (PROTO_TCP,), "UDP": (PROTO_UDP,), "SCTP": (PROTO_SCTP,),
                 "ANY": (PROTO_TCP, PROTO_UDP, PROTO_SCTP), "VRRP": (112,), "IGMP": (2,)}
PROTO_NAMES = {PROTO_TCP: "TCP", PROTO_UDP: "UDP", PROTO_SCTP: "SCTP", PROTO_ICMP: "ICMP",
               PROTO_ICMPV6: "ICMPv6"}

ICMPV4_TYPES = {
    "EchoReply": 0, "DestinationUnreachable": 3, "Redirect": 5, "Echo": 8, "EchoRequest": 8,
    "RouterAdvertisement": 9, "RouterSelection": 10, "TimeExceeded": 11, "ParameterProblem": 12,
    "Timestamp": 13, "TimestampReply": 14, "Photuris": 40, "ExtendedEchoRequest": 42,
    "ExtendedEchoReply": 43,
}
ICMPV6_TYPES = {
    "DestinationUnreachable": 1, "PacketTooBig": 2, "TimeExceeded": 3, "ParameterProblem": 4,
    "EchoRequest": 128, "EchoReply": 129, "MulticastListenerQuery": 130,
    "MulticastListenerReport": 131, "MulticastListenerDone": 132, "RouterSolicitation": 133,
    "RouterAdvertisement": 134, "NeighborSolicitation": 135, "NeighborAdvertisement": 136,
    "RedirectMessage": 137, "RouterRenumbering": 138, "ICMPNodeInformationQuery": 139,
    "ICMPNodeInformationResponse": 140, "InverseNeighborDiscoverySolicitation": 141,
    "InverseNeighborDiscoveryAdvertisement": 142, "HomeAgentAddressDiscoveryRequest": 144,
    "HomeAgentAddressDiscoveryReply": 145, "MobilePrefixSolicitation": 146,
    "MobilePrefixAdvertisement": 147, "DuplicateAddressRequestCodeSuffix": 157,
    "DuplicateAddressConfirmationCodeSuffix": 158, "ExtendedEchoRequest": 160,
    "ExtendedEchoReply": 161,
}

_SVC_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")


def is_svc_name(port: str) -> bool:
    """IANA service name: <=15 chars, alnum + '-', at least one letter, no '--' (pkg/iana)."""
    return (0 < len(port) <= 15 and bool(_SVC_NAME.match(port)) and "--" not in port
            and any(c.isalpha() for c in port))


def parse_go_uint16(text: str) -> int:
    """strconv.ParseUint(text, 0, 16) including its error texts."""
    s = text
    base = 10
    body = s
    low = s.lower()
    if low.startswith("0x"):
        base, body = 16, s[2:]
    elif low.startswith("0o"):
        base, body = 8, s[2:]
    elif low.startswith("0b"):
        base, body = 2, s[2:]
    elif len(s) > 1 and s.startswith("0"):
        base, body = 8, s[1:]
    body = body.replace("_", "") if base != 10 else body
    try:
        if not body or body[0] in "+-" or body.strip() != body:
            raise ValueError
        value = int(body, base)
    except ValueError:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax') from None
    if value > 0xFFFF:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return value


def proto_numbers(protocol: str | None) -> tuple[int, ...]:
    return PROTO_NUMBERS.get((protocol or "ANY").upper(), ())


@dataclass(frozen=True, slots=True)
class L4Match:
    """protocols x inclusive port range; (0, 65535) = all ports of those protocols."""

    protos: frozenset[int]
    lo: int
    hi: int

    @property
    def wildcard_port(self) -> bool:
        return self.lo == 0 and self.hi >= 65535

    def matches(self, proto: int, port: int) -> bool:
        return proto in self.protos and self.lo <= port <= self.hi


def port_range(port: int, end_port: int | None) -> tuple[int, int]:
    """`port: 0` = every port; `endPort <= port` = single port (PortRangeToMaskedPorts)."""
    if port == 0:
        return 0, 65535
    if end_port and end_port > port:
        return port, min(end_port, 65535)
    return port, port


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A toPorts entry before named-port resolution."""

    protocol: str  # TCP | UDP | SCTP | ANY | ...
    port: int | None  # numeric port, or None when `name` is set
    end_port: int
    name: str | None = None

    def resolve(self, named_ports: dict[str, set[tuple[int, str]]]) -> list[L4Match]:
        protos = proto_numbers(self.protocol)
        if self.name is None:
            lo, hi = port_range(self.port or 0, self.end_port)
            return [L4Match(frozenset(protos), lo, hi)] if protos else []
        out = []
        for number, proto_name in sorted(named_ports.get(self.name, ())):
            p = proto_numbers(proto_name)
            common = frozenset(x for x in p if x in protos)
            if common:
                out.append(L4Match(common, number, number))
        return out

    @property
    def is_named(self) -> bool:
        return self.name is not None


def icmp_match(family: str | None, icmp_type) -> L4Match | None:
    fam = family or "IPv4"
    proto = PROTO_ICMPV6 if fam == "IPv6" else PROTO_ICMP
    if isinstance(icmp_type, bool):
        return None
    if isinstance(icmp_type, int):
        value = icmp_type
    else:
        text = str(icmp_type)
        if text.isdigit():
            value = int(text)
        else:
            table = ICMPV6_TYPES if fam == "IPv6" else ICMPV4_TYPES
            if text not in table:
                return None
            value = table[text]
    return L4Match(frozenset((proto,)), value, value)
