"""`drop`: hubble_drop_total{reason, protocol} — reason is the DropReason enum name."""

from __future__ import annotations

from .api import Handler, drop_reason, flow_protocol


class DropHandler(Handler):
    name = "drop"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.drops = self.counter(registry, "drop_total", "Number of drops",
                                  self.context.label_names + ("reason", "protocol"))

    def process(self, flow: dict) -> None:
        if flow.get("verdict") != "DROPPED":
            return
        key = (drop_reason(flow), flow_protocol(flow))
        self.drops.inc(self._ctx(flow) + key if self._ctx else key)
