"""Egress `toServices` peers (spec §10.1; Cilium pkg/policy/k8s/service.go)."""

import ipaddress

from ciliumlab.cilium.policy import MATCH_L3_L4, MATCH_L3_ONLY, ServiceInfo

SERVER = ServiceInfo("server", "default", {"app": "server", "tier": "web"}, {"app": "server"})
BACKEND_NS1 = ServiceInfo("backend", "ns1", {"tier": "api"}, {"role": "backend"})
EXTERNAL = ServiceInfo("external", "default", {"external": "yes"}, None, ("20.1.1.1",))

TO_SERVER = """
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: server, namespace: default}}]
"""


def test_service_with_selector_allows_its_backend_pods(lab):
    lab.repo.set_services([SERVER, EXTERNAL])
    assert lab.apply(TO_SERVER).valid
    eg, _ = lab.verdicts("client", "server", 80)
    assert eg.allowed and eg.match_type == MATCH_L3_ONLY
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("client", "other", 80) == "DROPPED/133"
    assert lab.verdict("client", "20.1.1.1", 80) == "DROPPED/133"  # a different Service
    assert lab.repo.cidr_prefixes() == set()


def test_generated_selector_is_pinned_to_the_service_namespace(lab):
    lab.repo.set_services([BACKEND_NS1])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: backend, namespace: ns1}}]}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "FORWARDED"
    assert lab.verdict("client", "backend", 80) == "DROPPED/133"  # role=backend, but in default


def test_omitted_namespace_matches_services_in_every_namespace(lab):
    # serviceRefMatches: `ref.Namespace == svc.Namespace || ref.Namespace == ""` — the CNP's own
    # namespace is not substituted.
    lab.repo.set_services([BACKEND_NS1])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: backend}}]}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "FORWARDED"
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: backend, namespace: default}}]}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "DROPPED/133"


def test_service_selector_matches_service_labels(lab):
    lab.repo.set_services([SERVER, BACKEND_NS1, EXTERNAL])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices:
    - k8sServiceSelector:
        selector: {matchExpressions: [{key: tier, operator: In, values: [web, api]}]}
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("client", "backend-ns1", 80) == "FORWARDED"
    assert lab.verdict("client", "20.1.1.1", 80) == "DROPPED/133"  # no tier label
    # Selecting on the pod selector's labels does not match: only Service labels count.
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sServiceSelector: {selector: {matchLabels: {role: backend}}}}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "DROPPED/133"


def test_service_selector_with_namespace(lab):
    lab.repo.set_services([SERVER, BACKEND_NS1])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sServiceSelector: {selector: {matchLabels: {tier: api}}, namespace: default}}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "DROPPED/133"
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sServiceSelector: {selector: {matchLabels: {"k8s:tier": api}}, namespace: ns1}}]
""")
    assert lab.verdict("client", "backend-ns1", 80) == "FORWARDED"


def test_selectorless_service_allows_endpoint_ips_as_cidrs(lab):
    lab.repo.set_services([EXTERNAL])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: external, namespace: default}}]}]
""")
    assert lab.verdict("client", "20.1.1.1", 443) == "FORWARDED"
    assert lab.verdict("client", "20.1.1.2", 443) == "DROPPED/133"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.repo.cidr_prefixes() == {ipaddress.ip_network("20.1.1.1/32")}


def test_selectorless_service_never_matches_pods(lab):
    # A manual EndpointSlice pointing at an in-cluster address yields a CIDR peer; CIDR peers
    # never select Cilium-managed pods (or reserved identities), whatever their IP.
    lab.repo.set_services([ServiceInfo("manual", "default", {}, None, ("10.0.1.23", "20.1.1.1"))])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: manual}}]}]
""")
    for peer in ("server", "other", "host", "remote", "world"):
        assert lab.verdict("client", peer, 80) == "DROPPED/133", peer
    assert lab.verdict("client", "20.1.1.1", 80) == "FORWARDED"


def test_to_ports_with_to_services(lab):
    lab.repo.set_services([SERVER])
    assert lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: server, namespace: default}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""").valid
    eg, _ = lab.verdicts("client", "server", 80)
    assert eg.allowed and eg.match_type == MATCH_L3_L4
    assert lab.verdict("client", "server", 81) == "DROPPED/133"
    assert lab.verdict("client", "other", 80) == "DROPPED/133"  # not an L4-only wildcard


def test_unmatched_to_services_selects_nothing_but_enforces(lab):
    # AllowsWildcarding is false with toServices: no match never widens to every peer.
    assert lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: missing, namespace: default}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""").valid
    assert lab.repo.policy_for(lab.ids["client"]).egress_enforced
    for peer in ("server", "1.1.1.1", "world"):
        assert lab.verdict("client", peer, 80) == "DROPPED/133", peer


def test_service_changes_re_resolve_the_policy(lab):
    lab.apply(TO_SERVER)
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.repo.set_services([SERVER])
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    # The Service's selector changes: the generated peer follows.
    assert lab.repo.set_services([ServiceInfo("server", "default", SERVER.labels, {"app": "other"})])
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.verdict("client", "other", 80) == "FORWARDED"
    # Becomes selectorless with an external backend.
    assert lab.repo.set_services([ServiceInfo("server", "default", SERVER.labels, None, ("20.1.1.2",))])
    assert lab.verdict("client", "other", 80) == "DROPPED/133"
    assert lab.verdict("client", "20.1.1.2", 80) == "FORWARDED"
    assert lab.repo.cidr_prefixes() == {ipaddress.ip_network("20.1.1.2/32")}
    # Deleted.
    assert lab.repo.set_services([])
    assert lab.verdict("client", "20.1.1.2", 80) == "DROPPED/133"
    assert lab.repo.cidr_prefixes() == set()


def test_service_change_only_invalidates_affected_identities(lab):
    lab.apply(TO_SERVER)
    lab.apply("""
metadata: {name: unrelated}
spec:
  endpointSelector: {matchLabels: {app: other}}
  egress: [{toEndpoints: [{matchLabels: {app: server}}]}]
""")
    client, other = lab.repo.policy_for(lab.ids["client"]), lab.repo.policy_for(lab.ids["other"])
    rev = lab.repo.revision
    assert lab.repo.set_services([SERVER])
    assert lab.repo.revision == rev + 1
    assert lab.repo.policy_for(lab.ids["other"]) is other
    assert lab.repo.policy_for(lab.ids["client"]) is not client
    # A Service no toServices rule selects changes nothing at all.
    client = lab.repo.policy_for(lab.ids["client"])
    assert not lab.repo.set_services([SERVER, EXTERNAL])
    assert lab.repo.revision == rev + 1
    assert lab.repo.policy_for(lab.ids["client"]) is client
    # Same set again: no-op.
    assert not lab.repo.set_services([EXTERNAL, SERVER])


def test_deleted_policy_no_longer_tracks_services(lab):
    lab.apply(TO_SERVER)
    lab.repo.delete("CiliumNetworkPolicy", "default", "p")
    assert not lab.repo.set_services([SERVER])
    assert lab.verdict("client", "server", 80) == "FORWARDED"  # no policy left


def test_egress_deny_to_services_selects_nothing(lab):
    # Cilium only translates toServices of `egress` items; in egressDeny it stays empty.
    lab.repo.set_services([SERVER])
    assert lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEndpoints: [{}]}]
  egressDeny: [{toServices: [{k8sService: {serviceName: server, namespace: default}}]}]
""").valid
    assert lab.verdict("client", "server", 80) == "FORWARDED"


def test_ccnp_to_services(lab):
    lab.repo.set_services([SERVER, BACKEND_NS1])
    lab.apply("""
kind: CiliumClusterwideNetworkPolicy
metadata: {name: cw}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sServiceSelector: {selector: {}}}]}]
""")
    # `c2` (app=client in ns2) is selected too; an empty service selector picks every Service.
    for src in ("client", "c2"):
        assert lab.verdict(src, "server", 80) == "FORWARDED"
        assert lab.verdict(src, "backend-ns1", 80) == "FORWARDED"
        assert lab.verdict(src, "other", 80) == "DROPPED/133"


def test_l7_rules_apply_to_service_backends(lab):
    lab.repo.set_services([SERVER])
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: server, namespace: default}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: /public}]}}]
""")
    l7 = lab.l7("client", "server", 80, direction="egress")
    assert l7.allows_http("GET", "/public", "server", [])
    assert not l7.allows_http("POST", "/public", "server", [])


def test_combining_to_services_with_another_peer_is_rejected(lab):
    r = lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: server, namespace: default}}]
    toEndpoints: [{matchLabels: {app: server}}]
""")
    assert not r.valid
    assert r.message == "combining ToEndpoints and ToServices is not supported yet"
