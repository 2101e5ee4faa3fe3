"""`flow`: hubble_flows_processed_total{protocol, type, subtype, verdict} for every flow."""

from __future__ import annotations

from ..enums import OBSERVATION_POINTS
from .api import ACCESS_LOG, CAPTURE, DROP, POLICY_VERDICT, TRACE, Handler, flow_protocol, verdict

# monitor trace subtype -> monitorAPI.TraceObservationPoints name
TRACE_POINTS = {0: "to-endpoint", 1: "to-proxy", 2: "to-host", 3: "to-stack", 4: "to-overlay",
                5: "from-endpoint", 6: "from-proxy", 7: "from-host", 8: "from-stack", 9: "from-overlay",
                10: "from-network", 11: "to-network", 12: "from-crypto", 13: "to-crypto"}
# flow.trace_observation_point name -> the same monitor name (for flows without event_type.sub_type)
POINT_NAMES = {name: TRACE_POINTS[sub] for sub, name in OBSERVATION_POINTS.items()}

_TYPE_NAMES = {DROP: "Drop", CAPTURE: "Capture", POLICY_VERDICT: "PolicyVerdict"}


def type_and_subtype(flow: dict) -> tuple[str, str]:
    et = flow.get("event_type") or {}
    t = et.get("type", 0)
    if t == TRACE:
        if "sub_type" in et:
            return "Trace", TRACE_POINTS.get(et["sub_type"], "")
        return "Trace", POINT_NAMES.get(flow.get("trace_observation_point", "TO_ENDPOINT"), "to-endpoint")
    if t == ACCESS_LOG:
        l7 = flow.get("l7")
        if l7:
            if "dns" in l7:
                return "L7", "DNS"
            if "http" in l7:
                return "L7", "HTTP"
        return "L7", ""
    name = _TYPE_NAMES.get(t)
    return (name, "") if name else ("Unknown", str(t))


class FlowHandler(Handler):
    name = "flow"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.flows = self.counter(registry, "flows_processed_total", "Total number of flows processed",
                                  ("protocol", "type", "subtype", "verdict") + self.context.label_names)

    def process(self, flow: dict) -> None:
        key = (flow_protocol(flow), *type_and_subtype(flow), verdict(flow))
        self.flows.inc(key + self._ctx(flow) if self._ctx else key)
