"""Builders for L4 (and protocol-name) fields: protocol, source/destination port and TCP
flags (Cilium's protocol.go, port.go, tcp.go)."""

from __future__ import annotations

import json

from ciliumlab.hubble.types import FilterError, Flow, Predicate

# protocol name -> keys that must be present: ("l4", <oneof member>) or ("l7", <record>)
_PROTOCOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "icmp": (("l4", "ICMPv4"), ("l4", "ICMPv6")),
    "icmpv4": (("l4", "ICMPv4"),),
    "icmpv6": (("l4", "ICMPv6"),),
    "tcp": (("l4", "TCP"),),
    "udp": (("l4", "UDP"),),
    "sctp": (("l4", "SCTP"),),
    "vrrp": (("l4", "VRRP"),),
    "igmp": (("l4", "IGMP"),),
    "dns": (("l7", "dns"),),
    "http": (("l7", "http"),),
    "kafka": (("l7", "kafka"),),
}

_PORTED = ("TCP", "UDP", "SCTP")
TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS")


def build_protocol(ff: dict) -> list[Predicate]:
    """`protocol`: case-insensitive L4 (`l4` oneof member present) or L7 (`l7` record present)
    names; an L7 HTTP flow also carries `l4.TCP`, so `tcp` matches it too."""
    names = ff.get("protocol")
    if not names:
        return []
    checks: set[tuple[str, str]] = set()
    for name in names:
        wanted = _PROTOCOLS.get(name.lower())
        if wanted is None:
            raise FilterError(
                f"invalid protocol filter: unknown protocol: {json.dumps(name, ensure_ascii=False)}"
            )
        checks.update(wanted)
    frozen = tuple(sorted(checks))

    def match(flow: Flow) -> bool:
        for layer, member in frozen:
            container = flow.get(layer)
            if container and member in container:
                return True
        return False

    return [match]


def _parse_port(text: str) -> int:
    """Go strconv.ParseUint(text, 10, 16) with its error texts."""
    if not text or not text.isascii() or not text.isdigit():
        raise FilterError(
            f"invalid port {json.dumps(text)}: strconv.ParseUint: parsing {json.dumps(text)}: invalid syntax"
        )
    port = int(text)
    if port > 65535:
        raise FilterError(
            f"invalid port {json.dumps(text)}: strconv.ParseUint: parsing {json.dumps(text)}: value out of range"
        )
    return port


def build_port(ff: dict) -> list[Predicate]:
    """`source_port`/`destination_port`: decimal uint16 against the TCP/UDP/SCTP port; flows
    without one of those (ICMP, no L4) never match."""
    preds: list[Predicate] = []
    for side in ("source", "destination"):
        values = ff.get(f"{side}_port")
        if not values:
            continue
        try:
            wanted = frozenset(_parse_port(v) for v in values)
        except FilterError as exc:
            raise FilterError(f"invalid {side} port filter: {exc}") from None
        port_key = f"{side}_port"

        def match(flow: Flow, _wanted: frozenset = wanted, _key: str = port_key) -> bool:
            l4 = flow.get("l4")
            if not l4:
                return False
            for proto in _PORTED:
                layer = l4.get(proto)
                if layer is not None:
                    return layer.get(_key, 0) in _wanted
            return False

        preds.append(match)
    return preds


def build_tcp_flags(ff: dict) -> list[Predicate]:
    """`tcp_flags`: a filter value matches when all flags it sets are set on the flow (subset);
    values are OR-ed; flows without `l4.TCP.flags` never match."""
    entries = ff.get("tcp_flags")
    if not entries:
        return []
    wanted = tuple(frozenset(f for f in TCP_FLAGS if entry.get(f)) for entry in entries)

    def match(flow: Flow) -> bool:
        flags = flow.get("l4", {}).get("TCP", {}).get("flags")
        if flags is None:
            return False
        have = {f for f, on in flags.items() if on}
        for need in wanted:
            if need <= have:
                return True
        return False

    return [match]
