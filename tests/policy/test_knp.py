"""Kubernetes NetworkPolicy translation (NP-*; spec §16)."""

from tests.policy.policylab import UDP

NP02 = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def test_np02_default_deny_all_ingress(lab):
    assert lab.apply(NP02, namespace="ns1").valid
    for src in ("luke", "luke-ns1", "1.1.1.1", "remote", "client"):
        assert lab.verdict(src, "leia", 80) == "DROPPED/133", src
    assert lab.verdict("host", "leia", 80) == "FORWARDED"
    assert lab.verdict("leia", "luke", 80) == "FORWARDED"
    pol = lab.repo.policy_for(lab.ids["leia"])
    assert pol.ingress_enforced and not pol.egress_enforced
    assert pol.rules[0].kind == "NetworkPolicy"
    assert "k8s:io.cilium.k8s.policy.derived-from=NetworkPolicy" in pol.rules[0].labels


def test_np03_allow_all_ingress(lab):
    lab.apply(NP02, namespace="ns1")
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-ingress}
spec:
  podSelector: {}
  ingress: [{}]
""", namespace="ns1")
    assert lab.verdict("luke", "leia", 80) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "leia", 80) == "FORWARDED"


def test_np05_port_without_number(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-any}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{ports: [{protocol: UDP}]}]
""")
    assert lab.verdict("client", "server", 5353, UDP) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "server", 5353, UDP) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"


def test_np06_egress_rules_imply_ingress_isolation(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: client}}
  egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("client", "coredns", 53, UDP) == "DROPPED/133"
    assert lab.verdict("other", "client", 80) == "DROPPED/133"
    pol = lab.repo.policy_for(lab.ids["client"])
    assert pol.ingress_enforced and pol.egress_enforced


def test_np08_end_port(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{ports: [{protocol: TCP, port: 80, endPort: 443}]}]
""")
    assert lab.verdict("client", "server", 81) == "FORWARDED"
    assert lab.verdict("client", "server", 443) == "FORWARDED"
    assert lab.verdict("client", "server", 8080) == "DROPPED/133"


def test_namespace_selector_and_pod_selector(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-red-clients}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: red}}
      podSelector: {matchLabels: {app: client}}
""")
    assert lab.verdict("c2", "server", 80) == "FORWARDED"
    assert lab.verdict("luke", "server", 80) == "DROPPED/133"  # red ns but not app=client
    assert lab.verdict("client", "server", 80) == "DROPPED/133"  # app=client but default ns


def test_namespace_selector_only_and_empty(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ns-sel}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: blue}}}]
""")
    assert lab.verdict("leia", "server", 80) == "FORWARDED"
    assert lab.verdict("luke", "server", 80) == "DROPPED/133"
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ns-sel}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{namespaceSelector: {}}]
""")
    assert lab.verdict("luke", "server", 80) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "server", 80) == "DROPPED/133"
    assert lab.verdict("remote", "server", 80) == "DROPPED/133"


def test_pod_selector_peer_is_namespace_local(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-client}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("client", "server", 81) == "DROPPED/133"
    assert lab.verdict("c2", "server", 80) == "DROPPED/133"


def test_ip_block(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-ipblock}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.100.0.0/16]}}]
""")
    assert lab.verdict("client", "10.200.0.5", 80) == "FORWARDED"
    assert lab.verdict("client", "10.100.0.5", 80) == "DROPPED/133"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert not lab.repo.policy_for(lab.ids["client"]).ingress_enforced


def test_knp_name_annotation(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  annotations: {policy.cilium.io/name: friendly}
spec:
  podSelector: {}
  policyTypes: [Ingress]
""")
    assert lab.repo.selecting_rules(lab.ids["server"])[0].name == "friendly"
