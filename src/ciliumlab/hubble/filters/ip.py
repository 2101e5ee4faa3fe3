"""Builders for IP-level fields: source/destination/source_xlated IP (+CIDR), ip_version and
ip_trace_id (Cilium's ip.go and ip_trace_id.go)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ciliumlab.hubble.types import FilterError, Flow, Predicate

from .event import enum_match_set

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip_getter(key: str) -> Callable[[Flow], str]:
    def get(flow: Flow) -> str:
        return flow.get("IP", {}).get(key, "")

    return get


def filter_by_ips(values: list[str], get_ip: Callable[[Flow], str]) -> Predicate:
    """A value with `/` is a CIDR (prefix contains the address), otherwise exact string equality.

    Invalid values are request errors with Cilium's texts. The flow address is only parsed
    when CIDRs are present and the exact match failed.
    """
    addresses: set[str] = set()
    networks: list[IPNetwork] = []
    for value in values:
        if "/" in value:
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                raise FilterError(f"invalid CIDR in filter: {_go_q(value)}") from None
        else:
            try:
                ipaddress.ip_address(value)
                if "%" in value:  # Go's net.ParseIP rejects zones
                    raise ValueError(value)
            except ValueError:
                raise FilterError(f"invalid IP address in filter: {_go_q(value)}") from None
            addresses.add(value)
    frozen = frozenset(addresses)
    nets = tuple(networks)

    def match(flow: Flow) -> bool:
        ip = get_ip(flow)
        if not ip:
            return False
        if ip in frozen:
            return True
        if nets:
            try:
                parsed = ipaddress.ip_address(ip)
            except ValueError:
                return False
            for net in nets:
                if parsed.version == net.version and parsed in net:
                    return True
        return False

    return match


def _go_q(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def build_ip(ff: dict) -> list[Predicate]:
    """`source_ip`, `destination_ip`, `source_ip_xlated` (in Cilium's order)."""
    preds: list[Predicate] = []
    for field, key in (
        ("source_ip", "source"),
        ("destination_ip", "destination"),
        ("source_ip_xlated", "source_xlated"),
    ):
        values = ff.get(field)
        if values:
            preds.append(filter_by_ips(values, _ip_getter(key)))
    return preds


def build_ip_version(ff: dict) -> list[Predicate]:
    """`ip_version`: equality with IP.ipVersion; flows without IP are IP_NOT_USED."""
    values = ff.get("ip_version")
    if not values:
        return []
    wanted = enum_match_set(values, "IPVersion")
    return [lambda flow: flow.get("IP", {}).get("ipVersion", "IP_NOT_USED") in wanted]


def build_ip_trace_id(ff: dict) -> list[Predicate]:
    """`ip_trace_id`: equality with ip_trace_id.trace_id (a uint64, printed as a string)."""
    values = ff.get("ip_trace_id")
    if not values:
        return []
    wanted = frozenset(int(v) for v in values)

    def match(flow: Flow) -> bool:
        raw = flow.get("ip_trace_id", {}).get("trace_id", 0)
        try:
            return int(raw) in wanted
        except (TypeError, ValueError):
            return False

    return [match]
