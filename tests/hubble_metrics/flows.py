"""Hand-written flow dicts shaped like `hubble observe -o json` flows (proto names, enum names,
uint64 as strings, false/zero fields omitted), modelled on the Star Wars demo, plus a scrape
helper that reads /metrics the way Prometheus would."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def endpoint(ns: str, pod: str, labels: list[str], identity: int, workload: tuple[str, str] | None = None,
             **extra) -> dict:
    ep: dict = {"identity": identity, "cluster_name": "default", "namespace": ns, "labels": labels, "pod_name": pod}
    if workload:
        ep["workloads"] = [{"name": workload[0], "kind": workload[1]}]
    ep.update(extra)
    return ep


TIEFIGHTER = endpoint("default", "tiefighter", ["k8s:app.kubernetes.io/name=tiefighter", "k8s:class=tiefighter",
                                                "k8s:io.kubernetes.pod.namespace=default", "k8s:org=empire"],
                      39055, ID=2606)
XWING = endpoint("default", "xwing", ["k8s:app.kubernetes.io/name=xwing", "k8s:class=xwing",
                                      "k8s:io.kubernetes.pod.namespace=default", "k8s:org=alliance"], 42818, ID=2498)
DEATHSTAR = endpoint("default", "deathstar-d584d84bb-j2tzj",
                     ["k8s:app.kubernetes.io/name=deathstar", "k8s:class=deathstar",
                      "k8s:io.kubernetes.pod.namespace=default", "k8s:org=empire"],
                     59400, ("deathstar", "Deployment"), ID=193)
COREDNS = endpoint("kube-system", "coredns-d8f5f58dd-klkkw",
                   ["k8s:io.kubernetes.pod.namespace=kube-system", "k8s:k8s-app=kube-dns"],
                   49634, ("coredns", "Deployment"), ID=2755)
WORLD = {"identity": 2, "labels": ["reserved:world"]}
APISERVER = {"identity": 7, "labels": ["reserved:world", "reserved:kube-apiserver"]}
HOST = {"identity": 1, "labels": ["reserved:host"]}

NO_L4 = None  # pass l4=NO_L4 for a flow without an l4 field
_DEFAULT: dict = {}

TIE_IP, DEATHSTAR_IP, XWING_IP, DNS_IP = "172.20.1.104", "172.20.1.37", "172.20.2.45", "172.20.0.240"


def ip(src: str, dst: str, version: str = "IPv4") -> dict:
    return {"source": src, "destination": dst, "ipVersion": version}


def tcp(sport: int, dport: int, **flags: bool) -> dict:
    layer: dict = {"source_port": sport, "destination_port": dport}
    if flags:
        layer["flags"] = flags
    return {"TCP": layer}


def _flow(fields: dict, overrides: dict) -> dict:
    """A flow with `fields`, then `overrides` (a None override removes the field)."""
    base = {"time": "2025-11-26T08:00:00.006154496Z", "uuid": "50240d3c-cf21-4aa4-b74d-9ded0ef9636c",
            "emitter": {"name": "Hubble", "version": "1.19.0"}}
    base.update(fields)
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def trace(src=TIEFIGHTER, dst=DEATHSTAR, src_ip=TIE_IP, dst_ip=DEATHSTAR_IP, l4=_DEFAULT, *, sub_type: int | None = None,
          point: str = "TO_ENDPOINT", direction: str = "INGRESS", is_reply: bool | None = False,
          verdict: str = "FORWARDED", **extra) -> dict:
    """A trace event (type 4); to-endpoint (sub_type 0) is omitted by protojson."""
    return _flow(dict(verdict=verdict, IP=ip(src_ip, dst_ip), l4=tcp(36063, 80, SYN=True) if l4 is _DEFAULT else l4,
                      source=src, destination=dst, Type="L3_L4", node_name="k8s-w1",
                      event_type={"type": 4, "sub_type": sub_type} if sub_type else {"type": 4},
                      traffic_direction=direction, trace_observation_point=point,
                      trace_reason="REPLY" if is_reply else "NEW", is_reply=is_reply), extra)


def policy_verdict(src=TIEFIGHTER, dst=DEATHSTAR, *, verdict: str = "FORWARDED", match: int = 2,
                   direction: str = "INGRESS", **extra) -> dict:
    fields: dict = dict(verdict=verdict, IP=ip(TIE_IP, DEATHSTAR_IP), l4=tcp(36063, 80, SYN=True), source=src,
                        destination=dst, Type="L3_L4", node_name="k8s-w1", event_type={"type": 5},
                        traffic_direction=direction)
    if match:
        fields["policy_match_type"] = match
    if verdict == "DROPPED":
        fields["drop_reason"] = 133
        fields["drop_reason_desc"] = "POLICY_DENIED"
    else:
        fields["is_reply"] = False
    return _flow(fields, extra)


def drop(src=XWING, dst=DEATHSTAR, *, reason: str = "POLICY_DENIED", code: int = 133, l4=_DEFAULT, **extra) -> dict:
    """A drop event (type 1): no is_reply (unknown)."""
    return _flow(dict(verdict="DROPPED", drop_reason=code, IP=ip(XWING_IP, DEATHSTAR_IP),
                      l4=tcp(36974, 80, SYN=True) if l4 is _DEFAULT else l4, source=src, destination=dst,
                      Type="L3_L4", node_name="k8s-w2", event_type={"type": 1, "sub_type": code},
                      traffic_direction="INGRESS", file={"name": "bpf_lxc.c", "line": 2068},
                      drop_reason_desc=reason), extra)


def dns(query: str = "deathstar.default.svc.cluster.local.", *, response: bool = False, rcode: int = 0,
        ips: tuple[str, ...] = (), qtypes: tuple[str, ...] = ("A",), rrtypes: tuple[str, ...] = (),
        verdict: str = "FORWARDED", is_reply: bool | None = None, **extra) -> dict:
    """An L7 DNS access-log flow from the DNS proxy (tiefighter <-> coredns)."""
    record: dict = {"query": query}
    if ips:
        record["ips"] = list(ips)
        record["ttl"] = 30
    record["observation_source"] = "proxy"
    if rcode:
        record["rcode"] = rcode
    record["qtypes"] = list(qtypes)
    if rrtypes:
        record["rrtypes"] = list(rrtypes)
    l7: dict = {"type": "RESPONSE" if response else "REQUEST"}
    if response:
        l7["latency_ns"] = "420000"
    l7["dns"] = record
    src, dst = (COREDNS, TIEFIGHTER) if response else (TIEFIGHTER, COREDNS)
    src_ip, dst_ip = (DNS_IP, TIE_IP) if response else (TIE_IP, DNS_IP)
    return _flow(dict(verdict=verdict, IP=ip(src_ip, dst_ip),
                      l4={"UDP": {"source_port": 53, "destination_port": 51680} if response
                          else {"source_port": 51680, "destination_port": 53}},
                      source=src, destination=dst, Type="L7", node_name="k8s-w1", l7=l7,
                      reply=True if response else None, event_type={"type": 129}, traffic_direction="EGRESS",
                      is_reply=response if is_reply is None else is_reply), extra)


def http(*, response: bool, code: int = 200, method: str = "POST", url: str = "/v1/request-landing",
         protocol: str = "HTTP/1.1", latency_ns: int = 1100063, direction: str = "INGRESS", verdict: str = "FORWARDED",
         trace_id: str = "", client=TIEFIGHTER, server=DEATHSTAR, **extra) -> dict:
    """An L7 HTTP access-log flow between tiefighter (client) and deathstar (server); responses
    have source/destination (and IPs, ports) swapped, as Hubble reports them."""
    record: dict = {}
    if response and code:
        record["code"] = code
    record.update(method=method, url="http://deathstar.default.svc.cluster.local" + url, protocol=protocol)
    l7: dict = {"type": "RESPONSE" if response else "REQUEST"}
    if response:
        l7["latency_ns"] = str(latency_ns)
    l7["http"] = record
    fields: dict = dict(verdict=verdict, IP=ip(DEATHSTAR_IP, TIE_IP) if response else ip(TIE_IP, DEATHSTAR_IP),
                        l4=tcp(80, 36063) if response else tcp(36063, 80),
                        source=server if response else client, destination=client if response else server,
                        Type="L7", node_name="k8s-w1", l7=l7, reply=True if response else None,
                        event_type={"type": 129}, traffic_direction=direction, is_reply=response)
    if trace_id:
        fields["trace_context"] = {"parent": {"trace_id": trace_id}}
    return _flow(fields, extra)


def kafka(*, topic: str = "empire-announce", api_key: str = "produce", error_code: int = 0,
          request: bool = True, direction: str = "EGRESS") -> dict:
    record: dict = {}
    if error_code:
        record["error_code"] = error_code
    record.update(api_version=5, api_key=api_key, correlation_id=7, topic=topic)
    l7: dict = {"type": "REQUEST" if request else "RESPONSE", "latency_ns": "30000000", "kafka": record}
    return _flow(dict(verdict="FORWARDED", IP=ip(TIE_IP, "172.20.2.10"), l4=tcp(40000, 9092), source=TIEFIGHTER,
                      destination=endpoint("default", "kafka-broker-0", ["k8s:app=kafka"], 61000,
                                           ("kafka-broker", "StatefulSet")),
                      Type="L7", l7=l7, event_type={"type": 129}, traffic_direction=direction,
                      is_reply=not request), {})


# -- reading /metrics ------------------------------------------------------------------------------
def scrape(metrics, accept: str = "") -> dict[tuple[str, frozenset], float]:
    """{(sample name, frozenset(labels)): value} as a Prometheus scrape of expose() sees it."""
    body, _ = metrics.expose(accept)
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(metrics, name: str, **labels: str) -> float | None:
    """The value of the one series `name{labels}` (exact label set), None when absent."""
    return scrape(metrics).get((name, frozenset(labels.items())))


def series(metrics, name: str) -> dict[frozenset, float]:
    """Every series of `name`: {frozenset(labels): value}."""
    return {labels: v for (n, labels), v in scrape(metrics).items() if n == name}


def labelsets(metrics, name: str) -> list[dict[str, str]]:
    return sorted((dict(labels) for labels in series(metrics, name)), key=lambda d: sorted(d.items()))
