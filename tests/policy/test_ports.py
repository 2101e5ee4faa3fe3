"""Ports, ranges, protocols, named ports, ICMP (PT-*; spec §10.3, §11)."""

from ciliumlab.cilium.policy import Decision
from tests.policy.policylab import ICMP, TCP, UDP

PT01 = """
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toPorts: [{ports: [{port: "80", endPort: 444, protocol: TCP}]}]
"""


def test_pt01_port_range(lab):
    lab.apply(PT01)
    for port in (80, 443, 444):
        assert lab.verdict("client", "20.1.1.1", port) == "FORWARDED", port
    for port in (445, 79):
        assert lab.verdict("client", "20.1.1.1", port) == "DROPPED/133", port
    assert lab.verdict("client", "20.1.1.1", 443, UDP) == "DROPPED/133"
    assert lab.verdict("client", "coredns", 53, UDP) == "DROPPED/133"


PT02 = """
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "5353", protocol: ANY}]}]
"""


def test_pt02_pt03_any_and_omitted_protocol(lab):
    for doc in (PT02, PT02.replace(", protocol: ANY", "")):
        lab.apply(doc)
        for proto in (TCP, UDP, 132):
            assert lab.verdict("client", "server", 5353, proto) == "FORWARDED"
        assert lab.verdict("client", "server", 5353, ICMP) == "DROPPED/133"
        assert lab.verdict("client", "server", 5354, UDP) == "DROPPED/133"


def test_pt04_end_port_lower_than_port(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "8080", endPort: 80, protocol: TCP}]}]
""")
    assert lab.verdict("client", "server", 8080) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.verdict("client", "server", 8000) == "DROPPED/133"


def test_port_zero_is_all_ports_of_protocol(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "0", protocol: UDP}]}]
""")
    assert lab.verdict("client", "server", 5353, UDP) == "FORWARDED"
    assert lab.verdict("client", "server", 80, TCP) == "DROPPED/133"
    _, ing = lab.verdicts("client", "server", 5353, UDP)
    assert ing.match_type == 5  # L3-Proto


def test_pt07_icmp_rule(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - icmps: [{fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]}]
""")
    assert lab.verdict("client", "20.1.1.1", 8, ICMP) == "FORWARDED"
    assert lab.verdict("client", "20.1.1.1", 128, 58) == "FORWARDED"
    assert lab.verdict("client", "20.1.1.1", 0, ICMP) == "DROPPED/133"
    assert lab.verdict("client", "20.1.1.1", 80) == "DROPPED/133"
    eg, _ = lab.verdicts("client", "20.1.1.1", 8, ICMP)
    assert eg.match_type == 3  # L4-Only (wildcard peer, specific type)


def test_named_port(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: http}]}]
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("client", "server", 80, UDP) == "DROPPED/133"
    lab.repo.set_named_ports({"http": {(8080, "TCP")}})
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.verdict("client", "server", 8080) == "FORWARDED"
    lab.repo.set_named_ports({})
    assert lab.verdict("client", "server", 8080) == "DROPPED/133"


def test_l3_only_allows_icmp(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    _, ing = lab.verdicts("client", "server", 8, ICMP)
    assert ing.decision == Decision.ALLOW and ing.match_type == 1  # L3-Only
