"""Selector normalisation, namespace scoping and empty/nil semantics (NS-*; spec §2, §4-6)."""

from ciliumlab.cilium.labels import LabelSet
from ciliumlab.cilium.policy.selector import (
    IdentityInfo,
    SelectorCache,
    compile_label_selector,
    normalize_key,
)


def test_key_normalisation():
    assert normalize_key("org") == ("any", "org")
    assert normalize_key("k8s:org") == ("k8s", "org")
    assert normalize_key("k8s.org") == ("any", "k8s.org")
    assert normalize_key("reserved:host") == ("reserved", "host")
    assert normalize_key("reserved.host") == ("reserved", "host")
    assert normalize_key("$host") == ("reserved", "host")


def test_source_aware_matching():
    ident = IdentityInfo(300, LabelSet.of("k8s:org=empire", "container:role=x"))
    assert compile_label_selector({"matchLabels": {"org": "empire"}}).matches(ident)
    assert compile_label_selector({"matchLabels": {"k8s:org": "empire"}}).matches(ident)
    assert not compile_label_selector({"matchLabels": {"container:org": "empire"}}).matches(ident)
    assert compile_label_selector({"matchLabels": {"container:role": "x"}}).matches(ident)
    assert not compile_label_selector({"matchLabels": {"k8s.org": "empire"}}).matches(ident)
    exprs = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]},
                                  {"key": "zone", "operator": "DoesNotExist"},
                                  {"key": "org", "operator": "In", "values": ["empire", "x"]}]}
    assert compile_label_selector(exprs).matches(ident)
    assert not compile_label_selector({"matchExpressions": [{"key": "org", "operator": "Exists"},
                                                            {"key": "k8s:tier", "operator": "Exists"}]}).matches(ident)


def test_cidr_label_containment():
    ident = IdentityInfo(1 << 24 | 1, LabelSet.of("cidr:10.1.2.3/32", "reserved:world"))
    assert compile_label_selector({"matchLabels": {"cidr:10.0.0.0/8": ""}}).matches(ident)
    assert not compile_label_selector({"matchLabels": {"cidr:10.2.0.0/16": ""}}).matches(ident)


def test_selector_cache_incremental():
    cache = SelectorCache()
    cache.set_identity(300, LabelSet.of("k8s:app=a"))
    cs = cache.add(compile_label_selector({"matchLabels": {"app": "a"}}))
    assert cs.ids == {300}
    cache.set_identity(301, LabelSet.of("k8s:app=a"))
    cache.set_identity(302, LabelSet.of("k8s:app=b"))
    assert cs.ids == {300, 301}
    cache.set_identity(301, LabelSet.of("k8s:app=b"))  # relabel
    assert cs.ids == {300}
    cache.remove_identity(300)
    assert cs.ids == set()
    assert cache.add(compile_label_selector({"matchLabels": {"app": "a"}})) is cs  # shared


NS01 = """
metadata: {name: leia-from-luke}
spec:
  endpointSelector: {matchLabels: {name: leia}}
  ingress: [{fromEndpoints: [{matchLabels: {name: luke}}]}]
"""


def test_ns01_peers_pinned_to_policy_namespace(lab):
    assert lab.apply(NS01, namespace="ns1").valid
    assert lab.verdict("luke", "leia", 80) == "DROPPED/133"
    assert lab.verdict("luke-ns1", "leia", 80) == "FORWARDED"


def test_ns01_explicit_namespace_reaches_other_namespace(lab):
    doc = NS01.replace("{name: luke}", "{k8s:io.kubernetes.pod.namespace: ns2, name: luke}")
    lab.apply(doc, namespace="ns1")
    assert lab.verdict("luke", "leia", 80) == "FORWARDED"
    assert lab.verdict("luke-ns1", "leia", 80) == "DROPPED/133"


def test_namespace_labels_selector_not_pinned(lab):
    doc = NS01.replace("{name: luke}", "{io.cilium.k8s.namespace.labels.team: red}")
    lab.apply(doc, namespace="ns1")
    assert lab.verdict("luke", "leia", 80) == "FORWARDED"
    assert lab.verdict("c2", "leia", 80) == "FORWARDED"
    assert lab.verdict("luke-ns1", "leia", 80) == "DROPPED/133"


NS03 = """
metadata: {name: isolate-ns1}
spec:
  endpointSelector: {matchLabels: {}}
  ingress: [{fromEndpoints: [{matchLabels: {}}]}]
"""


def test_ns03_empty_from_endpoints_is_same_namespace(lab):
    lab.apply(NS03, namespace="ns1")
    assert lab.verdict("luke-ns1", "leia", 12345) == "FORWARDED"
    assert lab.verdict("luke", "leia", 80) == "DROPPED/133"
    assert lab.verdict("1.1.1.1", "leia", 80) == "DROPPED/133"
    assert lab.verdict("world", "leia", 80) == "DROPPED/133"
    assert lab.verdict("host", "leia", 80) == "FORWARDED"
    assert lab.verdict("leia", "luke", 80) == "FORWARDED"
    # the namespace-wide subject selects all ns1 pods but nothing else
    assert lab.repo.policy_for(lab.ids["luke-ns1"]).ingress_enforced
    assert not lab.repo.policy_for(lab.ids["luke"]).ingress_enforced


def test_ns05_explicit_empty_list_selects_nothing(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
""")
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    assert lab.verdict("world", "server", 80) == "DROPPED/133"


def test_only_to_ports_is_wildcard_over_all_identities(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
""")
    for src in ("client", "luke", "1.1.1.1", "world", "remote"):
        assert lab.verdict(src, "server", 80) == "FORWARDED", src
        assert lab.verdict(src, "server", 81) == "DROPPED/133", src
    _, ing = lab.verdicts("luke", "server", 80)
    assert ing.match_type == 3  # L4-Only


NS06 = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: wildcard-from-endpoints}
spec:
  endpointSelector:
    matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}
  ingress:
  - fromEndpoints: [{}]
    toPorts: [{ports: [{port: "53", protocol: UDP}]}]
"""


def test_ns06_ccnp_empty_from_endpoints_all_pods_not_world(lab):
    assert lab.apply(NS06).valid
    assert lab.verdict("c2", "coredns", 53, 17) == "FORWARDED"
    assert lab.verdict("client", "coredns", 53, 6) == "DROPPED/133"
    assert lab.verdict("8.8.8.8", "coredns", 53, 17) == "DROPPED/133"
    assert lab.verdict("remote", "coredns", 53, 17) == "DROPPED/133"
    assert lab.verdict("host", "coredns", 53, 17) == "FORWARDED"


def test_ns08_cnp_cannot_select_other_namespace(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": ns2, name: luke}}
  ingress: [{}]
""", namespace="ns1")
    assert lab.verdict("client", "luke", 80) == "FORWARDED"
    assert lab.verdict("client", "luke-ns1", 80) == "DROPPED/133"


def test_ns10_ccnp_empty_subject_includes_health(lab):
    lab.apply("""
kind: CiliumClusterwideNetworkPolicy
metadata: {name: all}
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{}]}]
""")
    assert lab.verdict("client", "luke", 80) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "client", 80) == "DROPPED/133"
    assert lab.verdict("remote", "health", 4240) == "DROPPED/133"
    assert lab.repo.policy_for(lab.ids["health"]).ingress_enforced
    assert not lab.repo.policy_for(lab.ids["host"]).ingress_enforced  # host only via nodeSelector
    lab.apply("""
kind: CiliumClusterwideNetworkPolicy
metadata: {name: cilium-health-checks}
spec:
  endpointSelector: {matchLabels: {"reserved:health": ""}}
  ingress: [{fromEntities: [remote-node]}]
  egress: [{toEntities: [remote-node]}]
""")
    assert lab.verdict("remote", "health", 4240) == "FORWARDED"


def test_identity_added_after_policy_is_selected(lab):
    from ciliumlab.cilium.labels import pod_identity_labels

    lab.apply(NS01, namespace="ns1")
    assert lab.verdict("luke-ns1", "leia", 80) == "FORWARDED"
    lab.repo.set_identity(5000, pod_identity_labels({"name": "luke"}, "ns1", {}))
    lab.ids["luke2"] = 5000
    assert lab.verdict("luke2", "leia", 80) == "FORWARDED"
    lab.repo.set_identity(5000, pod_identity_labels({"name": "han"}, "ns1", {}))
    assert lab.verdict("luke2", "leia", 80) == "DROPPED/133"
    lab.repo.set_identity(5001, pod_identity_labels({"name": "leia"}, "ns1", {}))
    lab.ids["leia2"] = 5001
    assert lab.verdict("luke2", "leia2", 80) == "DROPPED/133"
    lab.repo.remove_identity(5001)
