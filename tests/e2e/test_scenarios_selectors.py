"""Sections B and C of spec/policy-scenarios.md: selectors, namespaces, enforcement modes."""

from __future__ import annotations

from ciliumlab import Lab
from tests.conftest import shared_fixture
from tests.e2e.kit import drops_during, http, pod_ip

SERVER_ONLY_CLIENT = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-from-client}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
"""


def _curl_outcome(lab: Lab, run, dst: str) -> str:
    r, reasons = drops_during(lab, lambda: run(f"curl -s -o /dev/null --connect-timeout 1 http://{dst}/"))
    return "FORWARDED" if r.exit_code == 0 else ("DROPPED/" + "/".join(map(str, sorted(reasons))) if reasons else f"EXIT-{r.exit_code}")


def world_http(lab: Lab, src_ip: str, dst: str) -> str:
    return _curl_outcome(lab, lambda cmd: lab.external_exec(src_ip, cmd), dst)


def node_http(lab: Lab, node: str, dst: str) -> str:
    return _curl_outcome(lab, lambda cmd: lab.node_exec(node, cmd), dst)


def test_ns01_peers_pinned_to_policy_namespace(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: leia, namespace: ns1}
spec:
  endpointSelector: {matchLabels: {name: leia}}
  ingress: [{fromEndpoints: [{matchLabels: {name: luke}}]}]
""")
    leia = pod_ip(gen, "leia", "ns1")
    assert http(gen, "luke", f"{leia}:80", ns="ns2") == "DROPPED/133"
    assert http(gen, "luke-ns1", f"{leia}:80", ns="ns1") == "FORWARDED"


def test_ns03_empty_peer_selector_means_same_namespace(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: isolate-ns1, namespace: ns1}
spec:
  endpointSelector: {matchLabels: {}}
  ingress: [{fromEndpoints: [{matchLabels: {}}]}]
""")
    leia = pod_ip(gen, "leia", "ns1")
    assert http(gen, "luke-ns1", f"{leia}:8080", ns="ns1") == "FORWARDED"
    assert http(gen, "luke", f"{leia}:80", ns="ns2") == "DROPPED/133"
    assert world_http(gen, "1.1.1.1", f"{leia}:80") == "DROPPED/133"
    assert node_http(gen, "k8s-w1", f"{leia}:80") == "FORWARDED"
    assert http(gen, "leia", f"{pod_ip(gen, 'luke', 'ns2')}:80", ns="ns1") == "FORWARDED"


def test_ns05_explicit_empty_peer_list_selects_nothing(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: nothing}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
""")
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"


def test_ns06_ccnp_empty_peer_is_all_pods_not_world(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: wildcard-from-endpoints}
spec:
  endpointSelector:
    matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
  ingress:
  - fromEndpoints: [{}]
    toPorts: [{ports: [{port: "53", protocol: UDP}]}]
""")
    dns = gen.list("pods", "kube-system", label_selector="k8s-app=kube-dns")[0]["status"]["podIP"]
    r = gen.exec("c2", f"dig +short +time=1 +tries=1 @{dns} kubernetes.default.svc.cluster.local", namespace="ns2")
    assert (r.stdout, r.exit_code) == ("10.96.0.1\n", 0)
    r, reasons = drops_during(gen, lambda: gen.exec("client", f"dig +tcp +short +time=1 +tries=1 @{dns} kubernetes.default.svc.cluster.local"))
    assert r.exit_code != 0 and reasons == {133}


def test_ns08_cnp_cannot_select_another_namespace(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: reach-out, namespace: ns1}
spec:
  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": ns2, name: luke}}
  ingress: [{}]
""")
    assert http(gen, "client", f"{pod_ip(gen, 'luke', 'ns2')}:80") == "FORWARDED"
    assert http(gen, "client", f"{pod_ip(gen, 'luke-ns1', 'ns1')}:80") == "DROPPED/133"


def test_ns10_ccnp_all_endpoints_from_all_pods(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: all-from-pods}
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{}]}]
""")
    assert http(gen, "luke", f"{pod_ip(gen, 'server')}:80", ns="ns2") == "FORWARDED"
    assert world_http(gen, "1.1.1.1", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"


def test_en01_egress_policy_breaks_dns(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-egress}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: server}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    r, reasons = drops_during(gen, lambda: gen.exec("client", "curl -s http://server.default.svc.cluster.local"))
    assert r.exit_code == 6 and reasons == {133}
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"
    cluster_ip = gen.get("svc", "server")["spec"]["clusterIP"]
    assert http(gen, "client", f"{cluster_ip}:80") == "FORWARDED"


def test_en02_allowing_dns_fixes_resolution(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-egress}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: server}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}]}]
""")
    assert http(gen, "client", "server.default.svc.cluster.local") == "FORWARDED"
    r, reasons = drops_during(gen, lambda: gen.exec("client", "curl -s --connect-timeout 1 https://1.1.1.1"))
    assert r.exit_code == 28 and reasons == {133}


def test_en03_egress_default_deny_leaves_ingress_open(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-egress-deny}
spec:
  endpointSelector: {matchLabels: {app: server}}
  egress: [{}]
""")
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"
    assert http(gen, "server", f"{pod_ip(gen, 'client')}:80") == "DROPPED/133"


def test_en05_non_default_deny_policy_only_observes_dns(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: intercept-all-dns}
spec:
  endpointSelector:
    matchExpressions: [{key: "io.kubernetes.pod.namespace", operator: NotIn, values: [kube-system]}]
  enableDefaultDeny: {ingress: false, egress: false}
  egress:
  - toEndpoints:
    - matchLabels: {"io.kubernetes.pod.namespace": kube-system, "k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: TCP}, {port: "53", protocol: UDP}]
      rules: {dns: [{matchPattern: "*"}]}
""")
    r = gen.exec("client", "curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 https://1.1.1.1")
    assert r.exit_code == 0
    from ciliumlab.cilium.datapath import events as ev
    start = len(gen.events())
    r = gen.exec("client", "nslookup example.com")
    assert r.exit_code == 0
    dns = [e for e in gen.events()[start:] if e.type == ev.ACCESS_LOG and e.dns is not None]
    assert dns and all(e.l7_verdict == ev.L7_FORWARDED for e in dns)
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"


def test_en06_enforcement_always(gen: Lab) -> None:
    gen = Lab(config={"cilium_config": {"enable-policy": "always"}})
    from tests.conftest import FIXTURES
    gen.apply(FIXTURES / "gen.yaml")
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"
    assert node_http(gen, "k8s-w1", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"
    assert world_http(gen, "1.1.1.1", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"


def test_en07_enforcement_never(gen: Lab) -> None:
    lab = Lab(config={"cilium_config": {"enable-policy": "never"}})
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    lab.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny-empire}
spec:
  endpointSelector: {matchLabels: {class: deathstar}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {org: empire}}]}]
""")
    for ship in ("xwing", "tiefighter"):
        r = lab.exec(ship, "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
        assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)


def test_en09_both_sides_must_allow(gen: Lab) -> None:
    gen.apply(SERVER_ONLY_CLIENT)
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-to-other}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEndpoints: [{matchLabels: {app: other}}]}]
""")
    from ciliumlab.cilium.datapath import events as ev
    start = len(gen.events())
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"
    drops = [e for e in gen.events()[start:] if e.type == ev.DROP]
    assert {e.direction for e in drops} == {ev.EGRESS}


def test_en11_invalid_policy_has_no_effect(gen: Lab) -> None:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: rule1}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts:
    - ports: [{port: "80", protocol: UDP}]
      rules: {http: [{method: GET}]}
""")
    cond = lab.get("cnp", "rule1")["status"]["conditions"][0]
    assert cond["status"] == "False"
    assert cond["message"] == "L7 rules can only apply to TCP (not UDP) except for DNS rules"
    r = lab.exec("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)
