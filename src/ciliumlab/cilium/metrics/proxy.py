"""L7 proxy counters, fed by the access-log records a node's proxies report.

Every access-log record (request or response, HTTP from the Envoy role, DNS from the DNS proxy)
is what Cilium's `Endpoint.UpdateProxyStatistics` counts: `received` always, then `forwarded`,
`denied` or `parse_errors` by verdict, under `proxy_type` `envoy` (HTTP) or `fqdn` (DNS). The
pre-1.14 single counters the dashboard still plots (`cilium_policy_l7_*_total`) move in step.

`cilium_proxy_upstream_reply_seconds` is only fed by the DNS proxy in Cilium (Envoy keeps its
own statistics): each DNS response observes its latency under `scope="totalTime"` and
`scope="upstreamTime"` (the lab's DNS proxy spends no time of its own).
"""

from __future__ import annotations

from ..datapath import events as ev
from .series import CounterVec, HistogramVec

RULES = ("received", "forwarded", "denied", "parse_errors")
PROXY_TYPES = ("fqdn", "envoy")
VERDICT_RULE = {ev.L7_FORWARDED: "forwarded", ev.L7_DENIED: "denied", ev.L7_ERROR: "parse_errors"}
LEGACY = {"received": "cilium_policy_l7_received_total", "forwarded": "cilium_policy_l7_forwarded_total",
          "denied": "cilium_policy_l7_denied_total", "parse_errors": "cilium_policy_l7_parse_errors_total"}


class ProxyStats:
    def __init__(self) -> None:
        self.l7_total = CounterVec("cilium_policy_l7_total", preset=tuple((r, t) for r in RULES for t in PROXY_TYPES))
        self.legacy = {rule: CounterVec(name, preset=((),)) for rule, name in LEGACY.items()}
        self.upstream = HistogramVec("cilium_proxy_upstream_reply_seconds")

    def record(self, event: ev.MonitorEvent) -> None:
        l7 = event.l7
        if l7 is None:
            return
        proxy_type = "fqdn" if l7.dns is not None else "envoy"
        self._count("received", proxy_type)
        rule = VERDICT_RULE.get(l7.verdict)
        if rule is not None:
            self._count(rule, proxy_type)
        if l7.dns is not None and l7.type == ev.L7_RESPONSE:
            seconds = l7.latency_ns / 1e9
            error = "" if l7.verdict != ev.L7_ERROR else "timeout"
            self.upstream.observe(error, "dns", "totalTime", value=seconds)
            self.upstream.observe(error, "dns", "upstreamTime", value=seconds)

    def _count(self, rule: str, proxy_type: str) -> None:
        self.l7_total.inc(rule, proxy_type)
        self.legacy[rule].inc()

    def families(self) -> list:
        return [self.l7_total.family(), *(c.family() for c in self.legacy.values()), self.upstream.family()]
