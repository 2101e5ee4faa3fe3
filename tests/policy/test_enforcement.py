"""Enforcement modes and default deny (EN-*; spec §13)."""

from ciliumlab.cilium.policy import Decision, PolicyConfig
from tests.conftest import shared_fixture
from tests.policy.policylab import UDP

EN01 = """
metadata: {name: client-egress}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: server}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
"""
EN02_EXTRA = """
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}]}]
"""


def test_en01_egress_policy_breaks_dns(lab):
    lab.apply(EN01)
    assert lab.verdict("client", "coredns", 53, UDP) == "DROPPED/133"
    eg, _ = lab.verdicts("client", "coredns", 53, UDP)
    assert eg.enforced and eg.decision == Decision.DENY
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    pol = lab.repo.policy_for(lab.ids["client"])
    assert pol.egress_enforced and not pol.ingress_enforced


def test_en02_allowing_dns(lab):
    lab.apply(EN01 + EN02_EXTRA)
    assert lab.verdict("client", "coredns", 53, UDP) == "FORWARDED"
    assert lab.verdict("client", "coredns", 53, 6) == "FORWARDED"
    assert lab.verdict("client", "1.1.1.1", 443) == "DROPPED/133"


def test_en03_egress_default_deny_leaves_ingress_open(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  egress: [{}]
""")
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    assert lab.verdict("server", "client", 80) == "DROPPED/133"
    assert lab.verdict("server", "coredns", 53, UDP) == "DROPPED/133"


EN05 = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: intercept-all-dns}
spec:
  endpointSelector:
    matchExpressions:
    - {key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}
  enableDefaultDeny: {ingress: false, egress: false}
  egress:
  - toEndpoints:
    - matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: TCP}, {port: "53", protocol: UDP}]
      rules:
        dns: [{matchPattern: "*"}]
"""


def test_en05_non_default_deny_only_observes(lab):
    assert lab.apply(EN05).valid
    assert lab.verdict("client", "1.1.1.1", 443) == "FORWARDED"
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    eg, _ = lab.verdicts("client", "coredns", 53, UDP)
    assert eg.decision == Decision.REDIRECT and eg.l7.parser == "dns"
    assert eg.l7.allows_dns("example.com.")
    assert not lab.repo.policy_for(lab.ids["client"]).egress_enforced


def test_en05_with_narrow_dns_rule_still_allows_everything_when_not_default_deny(lab):
    lab.apply(EN05.replace('matchPattern: "*"', "matchName: api.github.com"))
    eg, _ = lab.verdicts("client", "coredns", 53, UDP)
    assert eg.decision == Decision.REDIRECT and eg.l7.allows_dns("example.com")


def test_en06_always_mode(make_lab):
    lab = make_lab(PolicyConfig(enforcement_mode="always"))
    assert lab.verdict("client", "server", 80) == "DROPPED/133"
    eg, _ = lab.verdicts("client", "server", 80)
    assert eg.decision == Decision.DENY  # client egress
    assert lab.verdict("host", "server", 80) == "FORWARDED"
    assert lab.verdict("1.1.1.1", "server", 80) == "DROPPED/133"
    pol = lab.repo.policy_for(lab.ids["server"])
    assert pol.ingress_enforced and pol.egress_enforced
    assert not lab.repo.policy_for(lab.ids["host"]).ingress_enforced


def test_en07_never_mode(make_lab):
    lab = make_lab(PolicyConfig(enforcement_mode="never"))
    lab.apply(open(shared_fixture("cilium", "sw_l3_l4_policy.yaml")).read())
    lab.apply("""
metadata: {name: deny-empire}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {org: empire}}]}]
""")
    assert lab.verdict("xwing", "deathstar", 80) == "FORWARDED"
    assert lab.verdict("tiefighter", "deathstar", 80) == "FORWARDED"
    assert not lab.repo.policy_for(lab.ids["deathstar"]).ingress_enforced


def test_config_change_in_place_takes_effect(lab):
    assert lab.verdict("client", "server", 80) == "FORWARDED"
    lab.config.enforcement_mode = "always"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"


def test_en09_both_sides_must_allow(lab):
    lab.apply("""
metadata: {name: client-to-other}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEndpoints: [{matchLabels: {app: other}}]}]
""")
    lab.apply("""
metadata: {name: server-from-client}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    eg, ing = lab.verdicts("client", "server", 80)
    assert eg.decision == Decision.DENY and eg.drop_reason == 133
    assert ing.decision == Decision.ALLOW


def test_en11_invalid_policy_has_no_effect(lab):
    res = lab.apply("""
metadata: {name: rule1}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts:
    - ports: [{port: "80", protocol: UDP}]
      rules: {http: [{method: POST}]}
""")
    assert not res.valid
    assert res.message == "L7 rules can only apply to TCP (not UDP) except for DNS rules"
    assert lab.verdict("xwing", "deathstar", 80) == "FORWARDED"
    assert not lab.repo.policy_for(lab.ids["deathstar"]).ingress_enforced


def test_invalid_update_keeps_previous_rules(lab):
    assert lab.apply(open(shared_fixture("cilium", "sw_l3_l4_policy.yaml")).read()).valid
    res = lab.apply("""
metadata: {name: rule1}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingress: [{fromEntities: [bogus]}]
""")
    assert not res.valid and res.message == "unsupported entity: bogus"
    assert lab.verdict("xwing", "deathstar", 80) == "DROPPED/133"
    assert lab.verdict("tiefighter", "deathstar", 80) == "FORWARDED"


def test_explicit_enable_default_deny_false_with_deny_rule(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  enableDefaultDeny: {ingress: false}
  ingressDeny: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    assert lab.verdict("client", "server", 80) == "DROPPED/181"
    assert lab.verdict("other", "server", 80) == "FORWARDED"
    assert not lab.repo.policy_for(lab.ids["server"]).ingress_enforced


def test_ingress_deny_only_turns_on_default_deny(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {app: client}}]}]
""")
    assert lab.verdict("other", "server", 80) == "DROPPED/133"
