"""Sections G (L7 merging, HTTP fields) and H (DNS, toFQDNs) of spec/policy-scenarios.md."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from ciliumlab.cilium.datapath import events as ev
from tests.e2e.kit import drops_during, http, pod_ip


def test_l7_02_split_items_l3_only_shadows_l7(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: split}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {env: prod}}]
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET, path: /public}]}
""")
    server = pod_ip(gen, "server")
    assert http(gen, "prod1", server, method="PUT", path="/private") == "FORWARDED"
    assert http(gen, "prod1", f"{server}:8080") == "FORWARDED"
    assert http(gen, "dev1", server, path="/public") == "FORWARDED"
    assert http(gen, "dev1", server, method="POST", path="/public") == "L7-403"
    r = gen.external_exec("1.1.1.1", f"curl -s -o /dev/null -w '%{{http_code}}' http://{server}/public")
    assert (r.exit_code, r.stdout) == (0, "200")
    assert http(gen, "dev1", f"{server}:8080") == "DROPPED/133"


def test_l7_02_combined_item(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: combined}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {env: prod}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET, path: /public}]}
""")
    server = pod_ip(gen, "server")
    assert http(gen, "prod1", server, path="/public") == "FORWARDED"
    assert http(gen, "prod1", server, method="PUT", path="/private") == "L7-403"
    assert http(gen, "prod1", f"{server}:8080") == "DROPPED/133"
    assert http(gen, "dev1", server, path="/public") == "DROPPED/133"


def test_l7_04_headers(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: headers}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - {method: GET, path: "/path1$"}
        - {method: PUT, path: "/path2$", headers: ["X-My-Header: true"]}
""")
    s = pod_ip(gen, "server")
    assert http(gen, "client", s, path="/path1") == "FORWARDED"
    assert http(gen, "client", s, path="/path1/x") == "L7-403"
    assert http(gen, "client", s, method="PUT", path="/path2", headers=("X-My-Header: true",)) == "FORWARDED"
    assert http(gen, "client", s, method="PUT", path="/path2") == "L7-403"
    assert http(gen, "client", s, method="PUT", path="/path2", headers=("X-My-Header: false",)) == "L7-403"
    assert http(gen, "client", s, method="PUT", path="/path1") == "L7-403"


def test_l7_06_disjoint_selectors_keep_their_rules(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: disjoint}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: a}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET}]}}]
  - fromEndpoints: [{matchLabels: {app: b}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: POST}]}}]
""")
    s = pod_ip(gen, "server")
    assert http(gen, "a", s) == "FORWARDED"
    assert http(gen, "a", s, method="POST") == "L7-403"
    assert http(gen, "b", s, method="POST") == "FORWARDED"
    assert http(gen, "b", s) == "L7-403"
    assert http(gen, "client", s) == "DROPPED/133"


MEDIABOT = """
apiVersion: v1
kind: Pod
metadata: {name: mediabot, labels: {org: empire, class: mediabot}}
spec:
  nodeName: k8s-w1
  containers: [{name: mediabot, image: nicolaka/netshoot}]
"""

KUBE_DNS_PEER = """
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
"""


def fqdn_policy(to_fqdns: str, dns_rules: str = '      rules: {dns: [{matchPattern: "*"}]}\n') -> str:
    return ("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn}
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
  - toFQDNs: """ + to_fqdns + "\n" + KUBE_DNS_PEER + dns_rules)


@pytest.fixture
def mediabot() -> Lab:
    lab = Lab()
    lab.apply(MEDIABOT)
    return lab


def curl_head(lab: Lab, url: str) -> tuple[int, str, set[int]]:
    r, reasons = drops_during(lab, lambda: lab.exec("mediabot", f"curl -sI --max-time 5 {url}"))
    return r.exit_code, r.stdout, reasons


def test_dns01_match_name(mediabot: Lab) -> None:
    mediabot.apply(fqdn_policy("[{matchName: api.github.com}]"))
    code, out, _ = curl_head(mediabot, "https://api.github.com")
    assert code == 0 and out.startswith("HTTP/2 200")
    code, _, reasons = curl_head(mediabot, "https://support.github.com")
    assert code == 28 and reasons == {133}


def test_dns02_match_pattern(mediabot: Lab) -> None:
    mediabot.apply(fqdn_policy('[{matchPattern: "*.github.com"}]'))
    assert curl_head(mediabot, "https://support.github.com")[0] == 0
    assert curl_head(mediabot, "https://gist.github.com")[0] == 0
    code, _, reasons = curl_head(mediabot, "https://github.com")
    assert code == 28 and reasons == {133}


def test_dns03_to_fqdns_with_ports(mediabot: Lab) -> None:
    policy = fqdn_policy('[{matchPattern: "*.github.com"}]\n    toPorts: [{ports: [{port: "443", protocol: TCP}]}]')
    mediabot.apply(policy)
    assert curl_head(mediabot, "https://api.github.com")[0] == 0
    code, _, reasons = curl_head(mediabot, "http://api.github.com")
    assert code == 28 and reasons == {133}


def test_dns04_dns_rule_refuses_other_names(mediabot: Lab) -> None:
    mediabot.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns-only}
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
""" + KUBE_DNS_PEER + "      rules: {dns: [{matchName: api.github.com}]}\n")
    r = mediabot.exec("mediabot", "dig +short api.github.com.")
    assert r.exit_code == 0 and r.stdout.strip()
    start = len(mediabot.events())
    r = mediabot.exec("mediabot", "dig example.com.")
    assert "status: REFUSED" in r.stdout
    denied = [e for e in mediabot.events()[start:] if e.type == ev.ACCESS_LOG and e.l7_verdict == ev.L7_DENIED]
    assert denied and denied[0].dns.query == "example.com."


def test_dns05_to_fqdns_without_dns_interception(mediabot: Lab) -> None:
    mediabot.apply(fqdn_policy("[{matchName: api.github.com}]", dns_rules=""))
    r = mediabot.exec("mediabot", "dig +short api.github.com")
    assert r.exit_code == 0 and r.stdout.strip()
    code, _, reasons = curl_head(mediabot, "https://api.github.com")
    assert code == 28 and reasons == {133}
