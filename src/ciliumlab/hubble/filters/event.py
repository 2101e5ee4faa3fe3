"""Builders for per-event attributes: uuid, event type, verdict, drop reason, reply, encrypted,
traffic direction and network interface (Cilium's uuid.go, event_type.go, verdict.go,
drop_reason_desc.go, reply.go, encrypted.go, traffic_direction.go, network_interface.go).

Every builder takes a *normalised* FlowFilter (see `schema.normalize_filter`) and returns the
predicates for the fields it owns (empty list when the filter doesn't use them).
"""

from __future__ import annotations

from ciliumlab.hubble.types import Flow, Predicate

from .enums import ENUMS, NAMES_BY_NUMBER


def enum_match_set(values: list, enum: str) -> frozenset:
    """Both spellings (name and number) of every filter value, so a predicate can test the
    flow's enum with one `in` whether the flow carries names (the contract) or numbers."""
    out: set = set()
    for value in values:
        if isinstance(value, str):
            out.update((value, ENUMS[enum][value]))
        else:
            out.add(value)
            if value in NAMES_BY_NUMBER[enum]:
                out.add(NAMES_BY_NUMBER[enum][value])
    return frozenset(out)


def build_uuid(ff: dict) -> list[Predicate]:
    """`uuid`: exact equality with Flow.uuid."""
    uuids = frozenset(ff.get("uuid", ()))
    if not uuids:
        return []
    return [lambda flow: flow.get("uuid", "") in uuids]


def build_event_type(ff: dict) -> list[Predicate]:
    """`event_type`: type 0 = any type; with match_sub_type the sub_type must also equal.

    A flow without `event_type` never matches (Cilium: GetEventType() == nil -> false).
    Zero `sub_type` is omitted from the flow JSON, hence the `.get(..., 0)`.
    """
    entries = ff.get("event_type", ())
    if not entries:
        return []
    specs = tuple(
        (e.get("type", 0), bool(e.get("match_sub_type", False)), e.get("sub_type", 0)) for e in entries
    )

    def match(flow: Flow) -> bool:
        event = flow.get("event_type")
        if event is None:
            return False
        etype = event.get("type", 0)
        esub = event.get("sub_type", 0)
        for ftype, match_sub, fsub in specs:
            if ftype != 0 and ftype != etype:
                continue
            if match_sub and fsub != esub:
                continue
            return True
        return False

    return [match]


def build_verdict(ff: dict) -> list[Predicate]:
    """`verdict`: enum equality (absent verdict = VERDICT_UNKNOWN)."""
    values = ff.get("verdict")
    if not values:
        return []
    wanted = enum_match_set(values, "Verdict")
    return [lambda flow: flow.get("verdict", "VERDICT_UNKNOWN") in wanted]


def build_drop_reason_desc(ff: dict) -> list[Predicate]:
    """`drop_reason_desc`: only DROPPED flows, and their DropReason must be listed."""
    values = ff.get("drop_reason_desc")
    if not values:
        return []
    wanted = enum_match_set(values, "DropReason")
    dropped = enum_match_set(["DROPPED"], "Verdict")

    def match(flow: Flow) -> bool:
        return (
            flow.get("verdict") in dropped and flow.get("drop_reason_desc", "DROP_REASON_UNKNOWN") in wanted
        )

    return [match]


def build_reply(ff: dict) -> list[Predicate]:
    """`reply`: compares `is_reply`; an unset `is_reply` never matches, except on DROPPED flows,
    where it counts as false (Cilium keeps this for old clients that filtered the deprecated
    `reply` field, which is always false on drops)."""
    values = ff.get("reply")
    if not values:
        return []
    wanted = frozenset(values)
    dropped = enum_match_set(["DROPPED"], "Verdict")

    def match(flow: Flow) -> bool:
        is_reply = flow.get("is_reply")
        if is_reply is None:
            if flow.get("verdict") not in dropped:
                return False
            is_reply = False
        return bool(is_reply) in wanted

    return [match]


def build_encrypted(ff: dict) -> list[Predicate]:
    """`encrypted`: equality with IP.encrypted (absent = false, so `[false]` matches non-IP flows)."""
    values = ff.get("encrypted")
    if not values:
        return []
    wanted = frozenset(values)
    return [lambda flow: bool(flow.get("IP", {}).get("encrypted", False)) in wanted]


def build_traffic_direction(ff: dict) -> list[Predicate]:
    """`traffic_direction`: enum equality (absent = TRAFFIC_DIRECTION_UNKNOWN)."""
    values = ff.get("traffic_direction")
    if not values:
        return []
    wanted = enum_match_set(values, "TrafficDirection")
    return [lambda flow: flow.get("traffic_direction", "TRAFFIC_DIRECTION_UNKNOWN") in wanted]


def build_interface(ff: dict) -> list[Predicate]:
    """`interface`: index (when > 0) and name (when non-empty) must equal Flow.interface;
    flows without an interface never match."""
    entries = ff.get("interface")
    if not entries:
        return []
    specs = tuple((e.get("index", 0), e.get("name", "")) for e in entries)

    def match(flow: Flow) -> bool:
        iface = flow.get("interface")
        if iface is None:
            return False
        index, name = iface.get("index", 0), iface.get("name", "")
        for findex, fname in specs:
            if findex > 0 and findex != index:
                continue
            if fname and fname != name:
                continue
            return True
        return False

    return [match]
