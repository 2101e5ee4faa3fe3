"""Deny policies (DN-*; spec §13.3)."""

from ciliumlab.cilium.policy import MATCH_L3_L4, Decision
from tests.conftest import shared_fixture
from tests.policy.policylab import ICMP

DN01 = """
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
"""


def test_dn01_port_deny_inside_l3_allow(lab):
    lab.apply(DN01)
    assert lab.verdict("client", "server", 81) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "DROPPED/181"
    assert lab.verdict("client", "server", 8, ICMP) == "FORWARDED"
    _, ing = lab.verdicts("client", "server", 80)
    assert ing.match_type == MATCH_L3_L4 and ing.policies and ing.policies[0].name == "p"


def test_dn03_deny_without_allow(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    assert lab.verdict("client", "server", 80) == "DROPPED/181"
    assert lab.verdict("client", "server", 81) == "DROPPED/133"
    assert lab.verdict("client", "server", 8, ICMP) == "DROPPED/133"


DN04 = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: external-lockdown}
spec:
  endpointSelector: {}
  ingressDeny: [{fromEntities: [world]}]
  ingress: [{fromEntities: [all]}]
"""


def test_dn04_external_lockdown(lab):
    assert lab.apply(DN04).valid
    assert lab.verdict("1.1.1.1", "server", 80) == "DROPPED/181"
    assert lab.verdict("world", "server", 80) == "DROPPED/181"
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("remote", "server", 80) == "FORWARDED"
    assert lab.verdict("host", "server", 80) == "FORWARDED"
    _, ing = lab.verdicts("client", "server", 80)
    assert ing.match_type == 4  # all


def test_dn05_egress_deny(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {role: frontend}}
  egress: [{toEntities: [all]}]
  egressDeny: [{toEndpoints: [{matchLabels: {role: backend}}]}]
""")
    assert lab.verdict("frontend", "backend", 80) == "DROPPED/181"
    assert lab.verdict("frontend", "1.1.1.1", 443) == "FORWARDED"
    assert lab.verdict("frontend", "backend-ns1", 80) == "FORWARDED"


def test_deny_beats_allow_across_objects_and_kinds(lab):
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all}
spec:
  podSelector: {}
  ingress: [{}]
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    lab.apply("""
metadata: {name: deny-client}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    _, ing = lab.verdicts("client", "server", 80)
    assert ing.decision == Decision.DENY and ing.drop_reason == 181
    assert [p.name for p in ing.policies] == ["deny-client"]


def test_deny_overrides_l7(lab):
    lab.apply(open(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml")).read())
    lab.apply("""
metadata: {name: no-tie}
spec:
  endpointSelector: {matchLabels: {class: deathstar}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {class: tiefighter}}]}]
""")
    assert lab.verdict("tiefighter", "deathstar", 80) == "DROPPED/181"
