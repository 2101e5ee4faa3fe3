"""FlowFilter -> predicate, and white/blacklists -> one predicate (Cilium's filters.go).

A FlowFilter is the AND of the predicates its fields produce; each field's predicate is an OR
over that field's values. Builders run in Cilium's DefaultFilters order, which decides which
error a request with several bad fields reports, and puts cheap checks first.
"""

from __future__ import annotations

from collections.abc import Callable

from ciliumlab.hubble.types import Flow, Predicate

from .cel import build_cel
from .event import (
    build_drop_reason_desc,
    build_encrypted,
    build_event_type,
    build_interface,
    build_reply,
    build_traffic_direction,
    build_uuid,
    build_verdict,
)
from .fqdn import build_fqdn, build_node_name
from .http import build_http
from .ip import build_ip, build_ip_trace_id, build_ip_version
from .k8s import build_cluster_name, build_identity, build_pod, build_service, build_workload
from .l4 import build_port, build_protocol, build_tcp_flags
from .labels import build_labels
from .schema import normalize_filter
from .tracing import build_trace_id

Builder = Callable[[dict], list[Predicate]]

BUILDERS: tuple[Builder, ...] = (
    build_uuid,
    build_event_type,
    build_verdict,
    build_drop_reason_desc,
    build_reply,
    build_encrypted,
    build_identity,
    build_protocol,
    build_ip,
    build_pod,
    build_workload,
    build_service,
    build_fqdn,
    build_labels,
    build_port,
    build_http,
    build_tcp_flags,
    build_node_name,
    build_cluster_name,
    build_ip_version,
    build_trace_id,
    build_traffic_direction,
    build_cel,
    build_interface,
    build_ip_trace_id,
)


def _always(flow: Flow) -> bool:
    return True


def _all_of(preds: tuple[Predicate, ...]) -> Predicate:
    if not preds:
        return _always
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda flow: first(flow) and second(flow)

    def match(flow: Flow) -> bool:
        for pred in preds:
            if not pred(flow):
                return False
        return True

    return match


def compile_filter(flow_filter: dict) -> Predicate:
    """One FlowFilter dict -> predicate (AND of its fields). An empty filter matches everything.

    Raises FilterError with the server's text for invalid filters.
    """
    ff = normalize_filter(flow_filter)
    preds: list[Predicate] = []
    for builder in BUILDERS:
        preds.extend(builder(ff))
    return _all_of(tuple(preds))


def compile_filters(whitelist: list[dict] | None, blacklist: list[dict] | None) -> Predicate:
    """Whitelist (OR; empty = everything) minus blacklist (excluded if any matches)."""
    allow = tuple(compile_filter(f) for f in whitelist or ())
    deny = tuple(compile_filter(f) for f in blacklist or ())
    if not allow and not deny:
        return _always

    def match(flow: Flow) -> bool:
        if allow:
            for pred in allow:
                if pred(flow):
                    break
            else:
                return False
        for pred in deny:
            if pred(flow):
                return False
        return True

    return match
