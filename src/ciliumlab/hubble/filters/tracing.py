"""Builder for `trace_id` (Cilium's tracing.go): equality with trace_context.parent.trace_id.

As in Cilium, a flow without trace context has trace id "" (so `[""]` would match it)."""

from __future__ import annotations

from ciliumlab.hubble.types import Flow, Predicate


def build_trace_id(ff: dict) -> list[Predicate]:
    values = ff.get("trace_id")
    if not values:
        return []
    wanted = frozenset(values)

    def match(flow: Flow) -> bool:
        return flow.get("trace_context", {}).get("parent", {}).get("trace_id", "") in wanted

    return [match]
