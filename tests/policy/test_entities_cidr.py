"""Entities and CIDR peers (EC-*; spec §7, §8)."""

import ipaddress

from tests.policy.policylab import UDP


def test_ec01_to_entities_world(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEntities: [world]}]
""")
    assert lab.verdict("client", "1.1.1.1", 443) == "FORWARDED"
    assert lab.verdict("client", "world", 443) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.verdict("client", "host", 80) == "DROPPED/133"
    assert lab.verdict("client", "coredns", 53, UDP) == "DROPPED/133"


def test_ec03_remote_nodes_not_trusted(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    assert lab.verdict("remote", "server", 80) == "DROPPED/133"
    assert lab.verdict("host", "server", 80) == "FORWARDED"
    lab.apply("""
metadata: {name: nodes}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEntities: [remote-node]}]
""")
    assert lab.verdict("remote", "server", 80) == "FORWARDED"
    assert lab.verdict("apiserver", "server", 80) == "FORWARDED"  # identity 7 carries remote-node


def test_ec05_cidr_of_cluster_ip_does_not_match_backend(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toCIDR: [10.96.0.10/32]}]
""")
    assert lab.verdict("client", "coredns", 53, UDP) == "DROPPED/133"
    assert ipaddress.ip_network("10.96.0.10/32") in lab.repo.cidr_prefixes()


def test_ec06_kube_apiserver_entity(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {env: dev}}
  egress: [{toEntities: [kube-apiserver]}]
""")
    assert lab.verdict("dev1", "apiserver", 443) == "FORWARDED"
    assert lab.verdict("dev1", "remote", 443) == "DROPPED/133"
    assert lab.verdict("dev1", "1.1.1.1", 443) == "DROPPED/133"


def test_cluster_entity(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEntities: [cluster]}]
""")
    for src in ("client", "luke", "coredns", "host", "remote", "apiserver", "health"):
        assert lab.verdict(src, "server", 80) == "FORWARDED", src
    assert lab.verdict("1.1.1.1", "server", 80) == "DROPPED/133"
    assert lab.verdict("world", "server", 80) == "DROPPED/133"


def test_cidr_set_with_except(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.100.0.0/16]}]
""")
    assert lab.verdict("client", "10.200.0.5", 80) == "FORWARDED"
    assert lab.verdict("client", "10.100.0.5", 80) == "DROPPED/133"
    assert lab.verdict("client", "1.1.1.1", 80) == "DROPPED/133"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"  # pods never match CIDRs
    prefixes = lab.repo.cidr_prefixes()
    assert ipaddress.ip_network("10.0.0.0/8") in prefixes and ipaddress.ip_network("10.100.0.0/16") in prefixes


def test_except_is_not_a_deny(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.100.0.0/16]}]
  - toCIDR: [10.100.0.5]
""")
    assert lab.verdict("client", "10.100.0.5", 80) == "FORWARDED"


def test_cidr_zero_is_world(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toCIDR: [0.0.0.0/0]}]
""")
    assert lab.verdict("client", "world", 80) == "FORWARDED"
    assert lab.verdict("client", "8.8.8.8", 80) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"


def test_from_cidr_ingress(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromCIDR: [20.1.1.0/24]}]
""")
    assert lab.verdict("20.1.1.1", "server", 80) == "FORWARDED"
    assert lab.verdict("20.1.1.2", "server", 80) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "server", 80) == "DROPPED/133"
