"""Hand-built flow dicts (shaped like `hubble observe -o json` flows) for the filter tests,
modelled on the Star Wars demo: tiefighter/xwing -> deathstar, DNS to kube-dns, drops."""

from __future__ import annotations


def endpoint(
    ns: str, pod: str, labels: list[str], identity: int = 0, cluster: str = "default", **extra
) -> dict:
    ep = {"identity": identity, "cluster_name": cluster, "namespace": ns, "labels": labels, "pod_name": pod}
    ep.update(extra)
    return ep


TIEFIGHTER = endpoint(
    "default",
    "tiefighter",
    [
        "k8s:app.kubernetes.io/name=tiefighter",
        "k8s:class=tiefighter",
        "k8s:io.kubernetes.pod.namespace=default",
        "k8s:org=empire",
    ],
    identity=1234,
    ID=101,
    workloads=[{"name": "tiefighter", "kind": "Deployment"}],
)
XWING = endpoint(
    "default",
    "xwing",
    [
        "k8s:app.kubernetes.io/name=xwing",
        "k8s:class=xwing",
        "k8s:io.kubernetes.pod.namespace=default",
        "k8s:org=alliance",
    ],
    identity=4321,
    ID=102,
)
DEATHSTAR = endpoint(
    "default",
    "deathstar-6fb5694d5-abcde",
    [
        "k8s:app.kubernetes.io/name=deathstar",
        "k8s:class=deathstar",
        "k8s:io.kubernetes.pod.namespace=default",
        "k8s:org=empire",
    ],
    identity=555,
    ID=103,
    workloads=[{"name": "deathstar", "kind": "Deployment"}],
)
COREDNS = endpoint(
    "kube-system",
    "coredns-5d78c9869d-x2x2x",
    ["k8s:io.kubernetes.pod.namespace=kube-system", "k8s:k8s-app=kube-dns"],
    identity=102,
)
WORLD = {"identity": 2, "labels": ["reserved:world"]}


def tcp(sport: int, dport: int, **flags: bool) -> dict:
    layer: dict = {"source_port": sport, "destination_port": dport}
    if flags:
        layer["flags"] = flags
    return {"TCP": layer}


def flow(**fields) -> dict:
    """A minimal flow: defaults to a forwarded TCP SYN tiefighter -> deathstar trace event."""
    base = {
        "uuid": "f-1",
        "verdict": "FORWARDED",
        "IP": {"source": "10.0.1.15", "destination": "10.0.2.20", "ipVersion": "IPv4"},
        "l4": tcp(41234, 80, SYN=True),
        "source": TIEFIGHTER,
        "destination": DEATHSTAR,
        "Type": "L3_L4",
        "node_name": "kind-worker",
        "node_labels": ["kubernetes.io/hostname=kind-worker", "kubernetes.io/os=linux"],
        "event_type": {"type": 4},
        "destination_service": {"name": "deathstar", "namespace": "default"},
        "traffic_direction": "EGRESS",
        "is_reply": False,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def http_request(
    method: str = "POST", url: str = "http://deathstar.default.svc.cluster.local/v1/request-landing", **extra
) -> dict:
    http = {
        "method": method,
        "url": url,
        "protocol": "HTTP/1.1",
        "headers": [{"key": "X-Request-Id", "value": "abc"}],
    }
    http.update(extra)
    return flow(
        Type="L7",
        l4=tcp(41234, 80),
        event_type={"type": 129},
        l7={"type": "REQUEST", "http": http},
    )


def http_response(
    code: int,
    method: str = "POST",
    url: str = "http://deathstar.default.svc.cluster.local/v1/request-landing",
) -> dict:
    f = http_request(method, url, code=code)
    f["l7"]["type"] = "RESPONSE"
    f["l7"]["latency_ns"] = "2000000"
    f["is_reply"] = True
    return f


def dns_request(query: str = "api.github.com.") -> dict:
    return flow(
        source=XWING,
        destination=COREDNS,
        IP={"source": "10.0.1.16", "destination": "10.0.0.10", "ipVersion": "IPv4"},
        l4={"UDP": {"source_port": 53000, "destination_port": 53}},
        Type="L7",
        event_type={"type": 129},
        l7={"type": "REQUEST", "dns": {"query": query, "observation_source": "proxy", "qtypes": ["A"]}},
        destination_service={"name": "kube-dns", "namespace": "kube-system"},
    )


def drop(**fields) -> dict:
    """xwing -> deathstar dropped by policy: drops have no is_reply."""
    base = dict(
        source=XWING,
        IP={"source": "10.0.1.16", "destination": "10.0.2.20", "ipVersion": "IPv4"},
        verdict="DROPPED",
        drop_reason=133,
        drop_reason_desc="POLICY_DENIED",
        event_type={"type": 1, "sub_type": 133},
        traffic_direction="INGRESS",
        is_reply=None,
    )
    base.update(fields)
    return flow(**base)


def icmp(**fields) -> dict:
    base = dict(l4={"ICMPv4": {"type": 8}}, destination_service=None)
    base.update(fields)
    return flow(**base)
