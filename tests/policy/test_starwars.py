"""Star Wars demo sequence SW-02..SW-14 (policy-scenarios.md §A) at the engine level."""


from ciliumlab.cilium.policy import MATCH_L3_L4, MATCH_NONE, Decision
from tests.conftest import shared_fixture
from tests.policy.policylab import ICMP, TCP

FIX = shared_fixture("cilium")


def test_sw01_no_policy_everything_forwarded_and_unenforced(lab):
    assert lab.verdict("xwing", "deathstar", 80) == "FORWARDED"
    pol = lab.repo.policy_for(lab.ids["deathstar"])
    assert not pol.ingress_enforced and not pol.egress_enforced


def test_sw02_sw03_l3_l4(lab):
    res = lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    assert res.valid and res.message == "Policy validation succeeded"
    eg, ing = lab.verdicts("tiefighter", "deathstar", 80)
    assert ing.decision == Decision.ALLOW and ing.match_type == MATCH_L3_L4 and ing.enforced
    assert ing.policies[0].name == "rule1"
    assert "k8s:io.cilium.k8s.policy.name=rule1" in ing.policies[0].labels
    assert "k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy" in ing.policies[0].labels
    _, deny = lab.verdicts("xwing", "deathstar", 80)
    assert deny.decision == Decision.DENY and deny.drop_reason == 133 and deny.match_type == MATCH_NONE
    assert deny.policies == ()


def test_sw04_enforcement_state(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    ds = lab.repo.policy_for(lab.ids["deathstar"])
    assert ds.ingress_enforced and not ds.egress_enforced
    for name in ("tiefighter", "xwing", "coredns", "health"):
        p = lab.repo.policy_for(lab.ids[name])
        assert not p.ingress_enforced and not p.egress_enforced, name
    assert [r.name for r in lab.repo.selecting_rules(lab.ids["deathstar"])] == ["rule1"]
    assert lab.repo.selecting_rules(lab.ids["xwing"]) == []


def test_sw05_l3_l4_allows_any_http(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    assert lab.http("tiefighter", "deathstar", "PUT", "/v1/exhaust-port") == "FORWARDED"
    _, ing = lab.verdicts("tiefighter", "deathstar", 80)
    assert ing.decision == Decision.ALLOW and ing.l7 is None


def test_sw06_to_sw09_l7(lab):
    assert lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text()).valid
    assert lab.apply((FIX / "sw_l3_l4_l7_policy.yaml").read_text()).valid  # configured (update)
    _, ing = lab.verdicts("tiefighter", "deathstar", 80)
    assert ing.decision == Decision.REDIRECT and ing.l7.parser == "http" and ing.match_type == MATCH_L3_L4
    assert lab.http("tiefighter", "deathstar", "POST", "/v1/request-landing") == "FORWARDED"
    assert lab.http("tiefighter", "deathstar", "PUT", "/v1/exhaust-port") == "L7-403"  # SW-07
    assert lab.http("xwing", "deathstar", "POST", "/v1/request-landing") == "DROPPED/133"  # SW-08
    for method, path in [("GET", "/v1/request-landing"), ("POST", "/v1/request-landing/"),
                         ("POST", "/v1/request-landing/x"), ("POST", "/V1/REQUEST-LANDING"),
                         ("POST", "/v1/request-landing?fast=1")]:  # SW-09, SW-10
        assert lab.http("tiefighter", "deathstar", method, path) == "L7-403", (method, path)


def test_sw09_subtree_regex(lab):
    doc = (FIX / "sw_l3_l4_l7_policy.yaml").read_text().replace('"/v1/request-landing"', '"/v1/.*"')
    assert lab.apply(doc).valid
    assert lab.http("tiefighter", "deathstar", "POST", "/v1/request-landing/x") == "FORWARDED"
    assert lab.http("tiefighter", "deathstar", "POST", "/v2/x") == "L7-403"


def test_sw11_other_ports_and_icmp(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    assert lab.verdict("tiefighter", "deathstar", 8080) == "DROPPED/133"
    assert lab.verdict("tiefighter", "deathstar", 8, ICMP) == "DROPPED/133"
    assert lab.verdict("tiefighter", "deathstar", 80, 17) == "DROPPED/133"


def test_sw12_host_always_allowed_without_l7(lab):
    lab.apply((FIX / "sw_l3_l4_l7_policy.yaml").read_text())
    for port in (80, 8080):
        _, ing = lab.verdicts("host", "deathstar", port)
        assert ing.decision == Decision.ALLOW and ing.l7 is None


def test_sw13_default_deny_for_empire_keeps_rule1(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    assert lab.apply((FIX / "sw_deny_policy.yaml").read_text()).valid
    assert lab.verdict("tiefighter", "deathstar", 80) == "FORWARDED"
    assert lab.verdict("xwing", "tiefighter", 80) == "DROPPED/133"
    assert lab.verdict("deathstar", "tiefighter", 80) == "DROPPED/133"
    assert lab.repo.policy_for(lab.ids["tiefighter"]).ingress_enforced


def test_sw14_delete_restores_access(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    rev = lab.repo.revision
    assert lab.verdict("xwing", "deathstar", 80) == "DROPPED/133"
    assert lab.repo.delete("CiliumNetworkPolicy", "default", "rule1")
    assert lab.repo.revision == rev + 1
    assert lab.verdict("xwing", "deathstar", 80) == "FORWARDED"
    assert not lab.repo.policy_for(lab.ids["deathstar"]).ingress_enforced
    assert not lab.repo.delete("CiliumNetworkPolicy", "default", "rule1")


def test_verdict_memo_is_stable(lab):
    lab.apply((FIX / "sw_l3_l4_policy.yaml").read_text())
    pol = lab.repo.policy_for(lab.ids["deathstar"])
    a = pol.lookup("ingress", lab.ids["tiefighter"], TCP, 80)
    assert pol.lookup("ingress", lab.ids["tiefighter"], TCP, 80) is a
    assert lab.repo.policy_for(lab.ids["deathstar"]) is pol
