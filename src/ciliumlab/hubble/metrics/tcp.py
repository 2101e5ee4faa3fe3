"""`tcp`: hubble_tcp_flags_total{flag, family}; FIN, SYN / SYN-ACK and RST counted independently."""

from __future__ import annotations

from .api import Handler


class TcpHandler(Handler):
    name = "tcp"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.flags = self.counter(registry, "tcp_flags_total", "TCP flag occurrences",
                                  ("flag", "family") + self.context.label_names)

    def process(self, flow: dict) -> None:
        v = flow.get("verdict")
        if v != "FORWARDED" and v != "REDIRECTED":
            return
        l4 = flow.get("l4")
        if l4 is None:
            return
        tcp = l4.get("TCP")
        ip = flow.get("IP")
        if tcp is None or ip is None:
            return
        flags = tcp.get("flags")
        if flags is None:
            return
        rest = (ip.get("ipVersion", "IP_NOT_USED"),) + (self._ctx(flow) if self._ctx else ())
        if flags.get("FIN"):
            self.flags.inc(("FIN",) + rest)
        if flags.get("SYN"):
            self.flags.inc(("SYN-ACK" if flags.get("ACK") else "SYN",) + rest)
        if flags.get("RST"):
            self.flags.inc(("RST",) + rest)
