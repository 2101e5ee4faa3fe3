"""`dns`: hubble_dns_queries_total / _responses_total / _response_types_total."""

from __future__ import annotations

from .api import Handler

HELP = "Number of DNS queries observed"

RCODE_NAMES = {
    0: "No Error", 1: "Format Error", 2: "Server Failure", 3: "Non-Existent Domain", 4: "Not Implemented",
    5: "Query Refused", 6: "Name Exists when it should not", 7: "RR Set Exists when it should not",
    8: "RR Set that should exist does not", 9: "Not Authorized", 10: "Name not contained in zone",
    11: "DSO-TYPE Not Implemented", 16: "Bad OPT Version", 17: "Key not recognized",
    18: "Signature out of time window", 19: "Bad TKEY Mode", 20: "Duplicate key name",
    21: "Algorithm not supported", 22: "Bad Truncation", 23: "Bad/missing Server Cookie",
}


class DnsHandler(Handler):
    name = "dns"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        keys = config.keys_lower()
        self.include_query = "query" in keys
        self.ignore_aaaa = "ignoreaaaa" in keys
        ctx = self.context.label_names
        query = ("query",) if self.include_query else ()
        self.queries = self.counter(registry, "dns_queries_total", HELP, ctx + ("rcode", "qtypes", "ips_returned") + query)
        self.responses = self.counter(registry, "dns_responses_total", HELP,
                                      ctx + ("rcode", "qtypes", "ips_returned") + query)
        self.response_types = self.counter(registry, "dns_response_types_total", HELP, ctx + ("type", "qtypes") + query)

    def process(self, flow: dict) -> None:
        l7 = flow.get("l7")
        if not l7:
            return
        dns = l7.get("dns")
        if dns is None:
            return
        qtypes_list = dns.get("qtypes", ())
        if self.ignore_aaaa and len(qtypes_list) == 1 and qtypes_list[0] == "AAAA":
            return
        ctx = self._ctx(flow) if self._ctx else ()
        qtypes = ",".join(qtypes_list)
        ips = str(len(dns.get("ips", ())))
        query = (dns.get("query", ""),) if self.include_query else ()
        if flow.get("verdict") == "DROPPED":
            self.queries.inc(ctx + ("Policy denied", qtypes, ips) + query)
        elif not flow.get("is_reply"):  # the request (is_reply false or unknown)
            self.queries.inc(ctx + ("", qtypes, ips) + query)
        else:
            rcode = RCODE_NAMES.get(dns.get("rcode", 0), "")
            self.responses.inc(ctx + (rcode, qtypes, ips) + query)
            for rrtype in dns.get("rrtypes", ()):
                self.response_types.inc(ctx + (rrtype, qtypes) + query)

    def status(self) -> str:
        parts = []
        if self.include_query:
            parts.append("query")
        if self.ignore_aaaa:
            parts.append("ignoreAAAA")
        return ",".join(parts + [self.context.status()])
