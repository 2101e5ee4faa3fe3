"""`flows-to-world`: hubble_flows_to_world_total{protocol, verdict[, port]} for flows whose
destination is reserved:world."""

from __future__ import annotations

from .api import EMPTY, Handler, flow_protocol, verdict

WORLD = "reserved:world"


class FlowsToWorldHandler(Handler):
    name = "flows-to-world"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        keys = config.keys_lower()
        self.any_drop = "any-drop" in keys
        self.port = "port" in keys
        self.syn_only = "syn-only" in keys
        labels = ("protocol", "verdict") + (("port",) if self.port else ()) + self.context.label_names
        self.flows_to_world = self.counter(registry, "flows_to_world_total",
                                           "Total number of flows to reserved:world", labels)

    def process(self, flow: dict) -> None:
        dst = flow.get("destination")
        l4 = flow.get("l4")
        if not dst or WORLD not in dst.get("labels", ()) or "event_type" not in flow or l4 is None:
            return
        v = verdict(flow)
        if v == "DROPPED" and not self.any_drop and flow.get("drop_reason_desc") != "POLICY_DENIED":
            return
        reply = flow.get("is_reply") is True
        if v != "DROPPED" and reply:
            return  # a forwarded reply: its destination port is ephemeral
        if self.syn_only and (reply or not l4.get("TCP", EMPTY).get("flags", EMPTY).get("SYN")):
            return
        key = (flow_protocol(flow), v)
        if self.port:
            port = ""
            for name in ("TCP", "UDP", "SCTP"):
                if name in l4:
                    port = str(l4[name].get("destination_port", 0))
                    break
            key += (port,)
        self.flows_to_world.inc(key + self._ctx(flow) if self._ctx else key)

    def status(self) -> str:
        parts = [name for name, on in (("any-drop", self.any_drop), ("port", self.port),
                                       ("syn-only", self.syn_only)) if on]
        return ",".join(parts + [self.context.status()])
