"""`sctp` (newest Cilium): hubble_sctp_chunk_types_total{chunk_type, family}."""

from __future__ import annotations

from .api import Handler


class SctpHandler(Handler):
    name = "sctp"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.chunks = self.counter(registry, "sctp_chunk_types_total", "SCTP chunk type occurrences",
                                   ("chunk_type", "family") + self.context.label_names)

    def process(self, flow: dict) -> None:
        v = flow.get("verdict")
        if v != "FORWARDED" and v != "REDIRECTED":
            return
        l4 = flow.get("l4")
        ip = flow.get("IP")
        if not l4 or not ip:
            return
        sctp = l4.get("SCTP")
        if not sctp:
            return
        chunk = sctp.get("chunk_type", "UNSUPPORTED")
        if chunk == "UNSUPPORTED":
            return
        key = (chunk, ip.get("ipVersion", "IP_NOT_USED"))
        self.chunks.inc(key + self._ctx(flow) if self._ctx else key)
