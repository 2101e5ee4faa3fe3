"""`port-distribution`: hubble_port_distribution_total{protocol, port} by destination port of
forwarded, non-reply flows."""

from __future__ import annotations

from .api import Handler

_PORTED = ("TCP", "UDP", "SCTP")
_PORTLESS = ("ICMPv4", "ICMPv6", "VRRP", "IGMP")


class PortDistributionHandler(Handler):
    name = "port-distribution"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.ports = self.counter(registry, "port_distribution_total",
                                  "Numbers of packets distributed by destination port",
                                  ("protocol", "port") + self.context.label_names)

    def process(self, flow: dict) -> None:
        # only is_reply == false counts: a flow whose direction is unknown (no is_reply) would
        # put ephemeral reply ports into the metric
        if flow.get("is_reply") is not False:
            return
        v = flow.get("verdict")
        if v != "FORWARDED" and v != "REDIRECTED":
            return
        l4 = flow.get("l4")
        if l4 is None:
            return
        ctx = self._ctx(flow) if self._ctx else ()
        for name, layer in l4.items():
            if name in _PORTED:
                self.ports.inc((name, str(layer.get("destination_port", 0))) + ctx)
            elif name in _PORTLESS:
                self.ports.inc((name, "0") + ctx)
                if name == "ICMPv6":
                    # the newest handler.go has the ICMPv6 block twice: one flow counts 2
                    self.ports.inc((name, "0") + ctx)
