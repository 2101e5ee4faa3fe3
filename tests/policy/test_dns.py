"""toFQDNs and L7 DNS rules (DNS-*; spec §9)."""

import pytest

from ciliumlab.cilium.labels import Label
from ciliumlab.cilium.policy import Decision, FQDNSelector, match_pattern
from tests.policy.policylab import UDP

DNS01 = """
metadata: {name: fqdn}
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
  - toFQDNs: [{matchName: api.github.com}]
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [{matchPattern: "*"}]
"""


def test_dns01_match_name(lab):
    assert lab.apply(DNS01).valid
    sels = lab.repo.fqdn_selectors()
    assert [s.label for s in sels] == [Label("fqdn", "api.github.com")]
    lab.fqdn_ip("140.82.112.5", "api.github.com")
    lab.fqdn_ip("185.199.108.1", "support.github.com")
    assert lab.verdict("mediabot", "140.82.112.5", 443) == "FORWARDED"
    assert lab.verdict("mediabot", "185.199.108.1", 443) == "DROPPED/133"
    eg, _ = lab.verdicts("mediabot", "coredns", 53, UDP)
    assert eg.decision == Decision.REDIRECT and eg.l7.parser == "dns" and eg.l7.allows_dns("anything.org.")


def test_dns02_match_pattern(lab):
    lab.apply(DNS01.replace("matchName: api.github.com", 'matchPattern: "*.github.com"'))
    lab.fqdn_ip("185.199.108.1", "support.github.com")
    lab.fqdn_ip("185.199.108.2", "gist.github.com")
    lab.fqdn_ip("140.82.121.4", "github.com")
    assert lab.verdict("mediabot", "185.199.108.1", 443) == "FORWARDED"
    assert lab.verdict("mediabot", "185.199.108.2", 443) == "FORWARDED"
    assert lab.verdict("mediabot", "140.82.121.4", 443) == "DROPPED/133"


def test_dns03_fqdn_with_ports(lab):
    lab.apply(DNS01.replace("- toFQDNs: [{matchName: api.github.com}]",
                            "- toFQDNs: [{matchPattern: '*.twitter.com'}]\n"
                            "    toPorts: [{ports: [{port: '443', protocol: TCP}]}]"))
    lab.fqdn_ip("104.244.42.1", "api.twitter.com")
    assert lab.verdict("mediabot", "104.244.42.1", 443) == "FORWARDED"
    assert lab.verdict("mediabot", "104.244.42.1", 80) == "DROPPED/133"


def test_dns04_dns_rule_refuses_other_names(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}]
      rules: {dns: [{matchName: api.github.com}]}
""")
    l7 = lab.l7("mediabot", "coredns", 53, direction="egress", proto=UDP)
    assert l7.allows_dns("api.github.com.")
    assert l7.allows_dns("API.GitHub.com")
    assert not l7.allows_dns("example.com.")
    assert lab.config.dns_reject_response_code == "refused"


def test_dns05_fqdn_without_dns_interception_learns_nothing(lab):
    lab.apply(DNS01.replace("""
      rules:
        dns: [{matchPattern: "*"}]""", ""))
    eg, _ = lab.verdicts("mediabot", "coredns", 53, UDP)
    assert eg.decision == Decision.ALLOW and eg.l7 is None  # no proxy -> the lab learns no IPs
    plain_ip = lab.external("140.82.112.5")  # not learned via DNS: no fqdn label
    assert lab.repo.policy_for(lab.ids["mediabot"]).lookup("egress", plain_ip, 6, 443).decision == Decision.DENY


@pytest.mark.parametrize("pattern,name,expected", [
    ("*.cilium.io", "sub.cilium.io", True),
    ("*.cilium.io", "cilium.io", False),
    ("*.cilium.io", "a.b.cilium.io", False),
    ("**.cilium.io", "app.cilium.io", True),
    ("**.cilium.io", "test.app.cilium.io", True),
    ("**.cilium.io", "cilium.io", False),
    ("*cilium.io", "cilium.io", True),
    ("*cilium.io", "subcilium.io", True),
    ("*cilium.io", "www.cilium.io", False),
    ("part*ial.com", "partial.com", True),
    ("part*ial.com", "part-extra-ial.com", True),
    ("sub*.cilium.io", "subdomain.cilium.io", True),
    ("sub*.cilium.io", "www.cilium.io", False),
    ("*", "anything.example.org.", True),
    ("**", "a.b.c", True),
    ("*.", "x.y", True),
    ("*.CILIUM.io", "Sub.Cilium.IO.", True),
])
def test_dns06_pattern_table(pattern, name, expected):
    assert match_pattern(pattern, name) is expected


def test_dns06_match_name_case_and_trailing_dot():
    sel = FQDNSelector(match_name="API.GitHub.com")
    assert sel.matches("api.github.com.")
    assert sel.matches("api.github.com")
    assert not sel.matches("xapi.github.com")
    assert sel.label == Label("fqdn", "api.github.com")
