"""Sections D (deny), E (ports), F (entities, CIDR) of spec/policy-scenarios.md, through traffic."""

from __future__ import annotations

from ciliumlab import Lab
from tests.e2e.kit import drops_during, http, ping, pod_ip


def reached(outcome: str) -> bool:
    """Policy let the connection through: the app answered or the host itself refused."""
    return outcome in ("FORWARDED", "REFUSED")


def test_dn01_port_deny_inside_l3_allow(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dn01}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    server = pod_ip(gen, "server")
    assert http(gen, "client", f"{server}:81") == "FORWARDED"
    assert http(gen, "client", f"{server}:80") == "DROPPED/181"
    assert ping(gen, "client", server) == "FORWARDED"


def test_dn03_deny_port_without_any_allow(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dn03}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    server = pod_ip(gen, "server")
    assert http(gen, "client", f"{server}:80") == "DROPPED/181"
    assert http(gen, "client", f"{server}:81") == "DROPPED/133"
    assert ping(gen, "client", server) == "DROPPED/133"


def test_dn04_external_lockdown(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: external-lockdown}
spec:
  endpointSelector: {}
  ingressDeny: [{fromEntities: [world]}]
  ingress: [{fromEntities: [all]}]
""")
    server = pod_ip(gen, "server")
    r, reasons = drops_during(gen, lambda: gen.external_exec("1.1.1.1", f"curl -s --connect-timeout 1 http://{server}/"))
    assert r.exit_code == 28 and reasons == {181}
    assert http(gen, "client", f"{server}:80") == "FORWARDED"
    assert gen.node_exec("k8s-w2", f"curl -s -o /dev/null --connect-timeout 1 http://{server}/").exit_code == 0
    assert gen.node_exec("k8s-w1", f"curl -s -o /dev/null --connect-timeout 1 http://{server}/").exit_code == 0


def test_dn05_egress_deny(gen: Lab) -> None:
    gen.apply("""
apiVersion: v1
kind: Pod
metadata: {name: frontend, labels: {role: frontend}}
spec:
  nodeName: k8s-w1
  containers: [{name: shell, image: nicolaka/netshoot}]
---
apiVersion: v1
kind: Pod
metadata: {name: backend, labels: {role: backend}}
spec:
  containers: [{name: app, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: ns2, labels: {role: backend}}
spec:
  containers: [{name: app, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: egress-deny}
spec:
  endpointSelector: {matchLabels: {role: frontend}}
  egress: [{toEntities: [all]}]
  egressDeny: [{toEndpoints: [{matchLabels: {role: backend}}]}]
""")
    assert http(gen, "frontend", f"{pod_ip(gen, 'backend')}:80") == "DROPPED/181"
    assert reached(http(gen, "frontend", "1.1.1.1:443"))
    assert http(gen, "frontend", f"{pod_ip(gen, 'backend', 'ns2')}:80") == "FORWARDED"


def test_pt01_port_range(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: range}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toPorts: [{ports: [{port: "80", endPort: 444, protocol: TCP}]}]}]
""")
    for port in (80, 443, 444):
        assert reached(http(gen, "client", f"20.1.1.1:{port}")), port
    for port in (445, 79):
        assert http(gen, "client", f"20.1.1.1:{port}") == "DROPPED/133", port
    r, reasons = drops_during(gen, lambda: gen.exec("client", "dig +time=1 +tries=1 kubernetes.default.svc.cluster.local"))
    assert r.exit_code != 0 and reasons == {133}


def test_pt04_endport_below_port_is_single_port(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: pt04}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "8080", endPort: 80, protocol: TCP}]}]
""")
    server = pod_ip(gen, "server")
    assert http(gen, "client", f"{server}:8080") == "FORWARDED"
    assert http(gen, "client", f"{server}:80") == "DROPPED/133"
    assert http(gen, "client", f"{server}:8000") == "DROPPED/133"


def test_pt07_icmp_rule(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: icmp}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - icmps:
    - fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]
""")
    assert ping(gen, "client", pod_ip(gen, "server")) == "FORWARDED"
    assert http(gen, "client", "20.1.1.1:80") == "DROPPED/133"


def test_ec01_to_entities_world(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-world}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEntities: [world]}]
""")
    assert reached(http(gen, "client", "1.1.1.1:443"))
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"
    assert http(gen, "client", "192.168.10.101:10250") == "DROPPED/133"


def test_ec03_remote_nodes_not_trusted(gen: Lab) -> None:
    policy = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-from-client}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
"""
    gen.apply(policy)
    server = pod_ip(gen, "server")
    remote = lambda: gen.node_exec("k8s-w2", f"curl -s -o /dev/null --connect-timeout 1 http://{server}/")  # noqa: E731
    r, reasons = drops_during(gen, remote)
    assert r.exit_code == 28 and reasons == {133}
    assert gen.node_exec("k8s-w1", f"curl -s -o /dev/null --connect-timeout 1 http://{server}/").exit_code == 0
    gen.apply(policy + "  - fromEntities: [remote-node]\n")
    assert remote().exit_code == 0


def test_ec05_cidr_of_a_clusterip_does_not_match(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-kube-dns-ip}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toCIDR: [10.96.0.10/32]}]
""")
    r, reasons = drops_during(gen, lambda: gen.exec("client", "dig +time=1 +tries=1 @10.96.0.10 kubernetes.default.svc.cluster.local"))
    assert r.exit_code != 0 and reasons == {133}


def test_ec06_kube_apiserver_entity(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dev-to-apiserver}
spec:
  endpointSelector: {matchLabels: {env: dev}}
  egress: [{toEntities: [kube-apiserver]}]
""")
    assert reached(http(gen, "dev1", "10.96.0.1:443"))
    assert http(gen, "dev1", "1.1.1.1:443") == "DROPPED/133"


def test_pt03_omitted_protocol_is_any(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns-any}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}}]
    toPorts: [{ports: [{port: "53"}]}]
""")
    for flags in ("", "+tcp"):
        r = gen.exec("client", f"dig {flags} +short +time=1 +tries=1 kubernetes.default.svc.cluster.local")
        assert (r.stdout, r.exit_code) == ("10.96.0.1\n", 0), flags
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "DROPPED/133"


def test_audit_mode_reports_but_lets_traffic_pass() -> None:
    from ciliumlab.cilium.datapath import events as ev
    from tests.conftest import shared_fixture

    lab = Lab(config={"cilium_config": {"policy-audit-mode": "true"}})
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    start = len(lab.events())
    r = lab.exec("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)
    new = lab.events()[start:]
    assert not [e for e in new if e.type == ev.DROP]
    verdicts = [e for e in new if e.type == ev.POLICY_VERDICT and e.direction == ev.INGRESS]
    assert verdicts and verdicts[0].audited and verdicts[0].verdict == -133


def test_socket_lb_translation_is_reported(gen: Lab) -> None:
    from ciliumlab.cilium.datapath import events as ev

    start = len(gen.events())
    cluster_ip = gen.get("svc", "server")["spec"]["clusterIP"]
    assert http(gen, "client", f"{cluster_ip}:80") == "FORWARDED"
    socks = [e for e in gen.events()[start:] if e.type == ev.TRACE_SOCK]
    assert [(e.subtype, e.dst.ip) for e in socks] == [
        (ev.SOCK_PRE_XLATE_FWD, cluster_ip), (ev.SOCK_POST_XLATE_FWD, pod_ip(gen, "server"))]
