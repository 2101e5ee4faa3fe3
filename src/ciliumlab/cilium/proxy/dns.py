"""The per-node DNS proxy for egress traffic with L7 DNS rules (and the toFQDNs learner).

Queries a DNS rule does not allow are answered by the proxy itself with REFUSED (or
NXDOMAIN with `tofqdns-dns-reject-response-code=nameError`). Allowed queries are forwarded;
names in the answers that a toFQDNs selector matches teach the agent which IPs that selector
stands for. Each query and answer becomes an L7 DNS access-log record.
"""

from __future__ import annotations

from ..datapath import events as ev

RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}


class DnsProxy:
    def __init__(self, fabric, port: int = 42591) -> None:
        self.fabric = fabric
        self.port = port
        self.learn = None  # callable(node, name, ips, ttl, endpoint_id) installed by the agent

    def allows(self, leg, qname: str) -> bool:
        l7 = leg.verdict.l7
        return True if l7 is None else bool(l7.allows_dns(qname))

    def log(self, path, leg, kind: int, verdict: str, qname: str, qtype: str, answer=None,
            latency_ns: int = 0) -> None:
        fabric = self.fabric
        reply = kind == ev.L7_RESPONSE
        src, dst = fabric.peers(path, leg.node, reply)
        if answer is not None and reply:
            ips = tuple(r.data for r in answer.answers if r.rtype in ("A", "AAAA"))
            cnames = tuple(r.data for r in answer.answers if r.rtype == "CNAME")
            ttl = min((r.ttl for r in answer.answers), default=0)
            record = ev.DnsRecord(qname, (qtype,), RCODES.get(answer.rcode, 2), ips, ttl, cnames,
                                  tuple(r.rtype for r in answer.answers))
        else:
            record = ev.DnsRecord(qname, (qtype,))
        fabric.emit(leg.node, ev.MonitorEvent(
            ev.ACCESS_LOG, 0, fabric.clock.tick(), leg.node, path.proto, src, dst, is_reply=reply,
            direction=leg.direction, proxy_port=self.port, policies=tuple(leg.verdict.policies),
            l7=ev.L7Record(kind, verdict, latency_ns, dns=record, observation_point="Egress")))
