"""Sections I (Kubernetes NetworkPolicy) and J (validation) of spec/policy-scenarios.md."""

from __future__ import annotations

import pytest

from ciliumlab import InvalidObject, Lab
from tests.conftest import shared_fixture
from tests.e2e.kit import drops_during, http, pod_ip

DENY_ALL_NS1 = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ns1}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def test_np02_default_deny_all_ingress(gen: Lab) -> None:
    assert gen.apply(DENY_ALL_NS1) == ["networkpolicy.networking.k8s.io/default-deny created"]
    leia = pod_ip(gen, "leia", "ns1")
    assert http(gen, "luke-ns1", f"{leia}:80", ns="ns1") == "DROPPED/133"
    assert http(gen, "client", f"{leia}:80") == "DROPPED/133"
    assert gen.node_exec("k8s-w1", f"curl -s -o /dev/null --connect-timeout 1 http://{leia}/").exit_code == 0
    assert http(gen, "leia", f"{pod_ip(gen, 'luke', 'ns2')}:80", ns="ns1") == "FORWARDED"


def test_np03_allow_all_ingress(gen: Lab) -> None:
    gen.apply(DENY_ALL_NS1)
    gen.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: ns1}
spec:
  podSelector: {}
  ingress: [{}]
""")
    leia = pod_ip(gen, "leia", "ns1")
    assert http(gen, "luke", f"{leia}:80", ns="ns2") == "FORWARDED"
    r = gen.external_exec("1.1.1.1", f"curl -s -o /dev/null --connect-timeout 1 http://{leia}/")
    assert r.exit_code == 0


def test_np05_port_without_number(gen: Lab) -> None:
    gen.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-only}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{ports: [{protocol: UDP}]}]
""")
    server = pod_ip(gen, "server")
    r = gen.exec("client", f"dig +time=1 +tries=1 -p 5353 @{server} anything.example")
    assert "no servers could be reached" not in r.stdout
    assert http(gen, "client", f"{server}:80") == "DROPPED/133"


def test_np06_egress_rules_imply_ingress_isolation(gen: Lab) -> None:
    gen.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: client}}
  egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
""")
    assert gen.get("netpol", "client-egress")["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert http(gen, "client", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"
    r, reasons = drops_during(gen, lambda: gen.exec("client", "dig +time=1 +tries=1 kubernetes.default.svc.cluster.local"))
    assert r.exit_code != 0 and reasons == {133}
    assert http(gen, "other", f"{pod_ip(gen, 'client')}:80") == "DROPPED/133"


def test_np08_endport(gen: Lab) -> None:
    gen.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{ports: [{protocol: TCP, port: 80, endPort: 443}]}]
""")
    server = pod_ip(gen, "server")
    assert http(gen, "client", f"{server}:81") == "FORWARDED"
    assert http(gen, "client", f"{server}:443") == "FORWARDED"
    assert http(gen, "client", f"{server}:8080") == "DROPPED/133"


# -- validation -------------------------------------------------------------------------------------
def snapshot(lab: Lab) -> dict:
    return {kind: [(o["metadata"].get("namespace"), o["metadata"]["name"], o["metadata"]["resourceVersion"])
                   for o in lab.list(kind)] for kind in ("cnp", "ccnp", "pods", "svc")}


def test_va01_malformed_policy_rejected_and_nothing_stored() -> None:
    lab = Lab()
    before = snapshot(lab)
    with pytest.raises(InvalidObject) as err:
        lab.apply(shared_fixture("cilium", "malformed_policy.yaml"))
    assert 'CiliumNetworkPolicy "badrule" is invalid' in str(err.value)
    assert "spec.egress" in str(err.value)
    assert snapshot(lab) == before


CNP = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: {name}}}
spec:
  endpointSelector: {{matchLabels: {{app: server}}}}
{body}
"""


@pytest.mark.parametrize("name,body,message", [
    ("va02", "  ingress:\n  - toPorts: [{ports: [{port: '80', protocol: UDP}], rules: {http: [{method: GET}]}}]",
     "L7 rules can only apply to TCP (not UDP) except for DNS rules"),
    ("va03", "  ingress:\n  - toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{method: GET, path: '*'}]}}]",
     "error parsing regexp: missing argument to repetition operator: `*`"),
    ("va06", "  egress:\n  - icmps: [{fields: [{type: 8}]}]\n    toPorts: [{ports: [{port: '80'}]}]",
     "the ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts"),
    ("va07", "  ingress:\n  - toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchName: a.com}]}}]",
     "L7 protocol DNS is not supported on ingress yet"),
    ("va08", "  ingress:\n  - toPorts: [{ports: [{port: '65536', protocol: TCP}]}]",
     'unable to parse port: strconv.ParseUint: parsing "65536": value out of range'),
    ("va11", "  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/16, except: [10.1.0.0/24]}]",
     "allow CIDR prefix 10.0.0.0/16 does not contain exclude CIDR prefix 10.1.0.0/24"),
])
def test_agent_rejects_policy_stored_invalid_and_not_enforced(gen: Lab, name: str, body: str, message: str) -> None:
    assert gen.apply(CNP.format(name=name, body=body)) == [f"ciliumnetworkpolicy.cilium.io/{name} created"]
    cond = gen.get("cnp", name)["status"]["conditions"][0]
    assert (cond["type"], cond["status"]) == ("Valid", "False")
    assert message in cond["message"]
    assert http(gen, "other", f"{pod_ip(gen, 'server')}:80") == "FORWARDED"


def test_va05_from_requires_rejected_by_api_server(gen: Lab) -> None:
    before = snapshot(gen)
    with pytest.raises(InvalidObject):
        gen.apply(CNP.format(name="va05", body="  ingress:\n  - fromRequires: [{matchLabels: {env: prod}}]"))
    assert snapshot(gen) == before


def test_va09_node_selector_in_cnp(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: va09}
spec:
  nodeSelector: {}
  ingress: [{}]
""")
    cond = gen.get("cnp", "va09")["status"]["conditions"][0]
    assert cond["status"] == "False" and cond["message"] == "rule cannot have NodeSelector"


def test_va12_missing_sections_rejected(gen: Lab) -> None:
    before = snapshot(gen)
    with pytest.raises(InvalidObject):
        gen.apply(CNP.format(name="va12", body=""))
    assert snapshot(gen) == before


def test_named_port_in_network_policy(gen: Lab) -> None:
    gen.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}]
""")
    server = pod_ip(gen, "server")
    assert http(gen, "client", f"{server}:80") == "FORWARDED"
    assert http(gen, "client", f"{server}:81") == "DROPPED/133"
    assert http(gen, "other", f"{server}:80") == "DROPPED/133"
