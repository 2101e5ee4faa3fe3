"""The Star Wars demo of MISSION.md §5, step by step, through real traffic."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from ciliumlab.cilium.datapath import events as ev
from tests.conftest import shared_fixture

LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
EXHAUST = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_01_deploy_prints_kubectl_lines(lab: Lab) -> None:
    assert lab.apply(shared_fixture("cilium", "http-sw-app.yaml")) == [
        "service/deathstar created", "deployment.apps/deathstar created", "pod/tiefighter created",
        "pod/xwing created"]
    pods = {p["metadata"]["name"]: p for p in lab.list("pods", "default")}
    deathstars = [n for n in pods if n.startswith("deathstar-")]
    assert len(deathstars) == 2
    assert all(pods[n]["status"]["phase"] == "Running" for n in pods)
    assert {pods[n]["spec"]["nodeName"] for n in deathstars} <= {"k8s-w1", "k8s-w2"}


def test_02_no_policy_both_ships_land(lab: Lab) -> None:
    for ship in ("xwing", "tiefighter"):
        r = lab.exec(ship, LANDING)
        assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)


def test_03_no_policy_endpoints_not_enforced(lab: Lab) -> None:
    for cep in lab.list("cep", "default"):
        assert cep["status"]["policy"]["ingress"]["enforcing"] is False
        assert cep["status"]["policy"]["egress"]["enforcing"] is False


def test_04_l3_l4_policy_created_and_valid(lab: Lab) -> None:
    assert lab.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml")) == [
        "ciliumnetworkpolicy.cilium.io/rule1 created"]
    cond = lab.get("cnp", "rule1")["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["message"]) == ("Valid", "True", "Policy validation succeeded")


def test_05_tiefighter_still_lands(lab: Lab) -> None:
    r = lab.exec("tiefighter", LANDING)
    assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)


def test_06_xwing_times_out_with_policy_denied_drops(lab: Lab) -> None:
    start = len(lab.events())
    r = lab.exec("xwing", LANDING + " --connect-timeout 2")
    assert r.exit_code == 28
    assert r.stdout == ""
    new = lab.events()[start:]
    drops = [e for e in new if e.type == ev.DROP]
    assert drops and {e.drop_reason for e in drops} == {ev.DROP_POLICY_DENIED}
    assert all(e.tcp_flags == ev.SYN and e.direction == ev.INGRESS for e in drops)
    assert len(drops) >= 2  # the SYN is retransmitted until curl gives up
    verdicts = [e for e in new if e.type == ev.POLICY_VERDICT]
    assert verdicts and verdicts[0].verdict == -133 and verdicts[0].match_type == ev.MATCH_NONE


def test_07_deathstar_ingress_enforced_only(lab: Lab) -> None:
    for cep in lab.list("cep", "default"):
        name = cep["metadata"]["name"]
        ingress = cep["status"]["policy"]["ingress"]["enforcing"]
        assert ingress is name.startswith("deathstar-"), name
        assert cep["status"]["policy"]["egress"]["enforcing"] is False


def test_08_exhaust_port_explodes_without_l7(lab: Lab) -> None:
    r = lab.exec("tiefighter", EXHAUST)
    assert r.exit_code == 0
    assert r.stdout.startswith("Panic: deathstar exploded")


def test_09_l7_policy_configured(lab: Lab) -> None:
    assert lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml")) == [
        "ciliumnetworkpolicy.cilium.io/rule1 configured"]


def test_10_l7_allows_landing_and_denies_exhaust_port(lab: Lab) -> None:
    r = lab.exec("tiefighter", LANDING)
    assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)
    start = len(lab.events())
    r = lab.exec("tiefighter", EXHAUST)
    assert (r.stdout, r.exit_code) == ("Access denied\r\n", 0)
    l7 = [e for e in lab.events()[start:] if e.type == ev.ACCESS_LOG]
    assert [(e.l7_type, e.l7_verdict, e.http.method) for e in l7] == [
        (ev.L7_REQUEST, ev.L7_DENIED, "PUT"), (ev.L7_RESPONSE, ev.L7_FORWARDED, "PUT")]
    assert l7[0].http.url == "http://deathstar.default.svc.cluster.local/v1/exhaust-port"
    assert l7[1].http.code == 403


def test_11_xwing_still_blocked_at_l3(lab: Lab) -> None:
    start = len(lab.events())
    r = lab.exec("xwing", LANDING + " --connect-timeout 2")
    assert r.exit_code == 28
    assert not [e for e in lab.events()[start:] if e.type == ev.ACCESS_LOG]


def test_12_cleanup(lab: Lab) -> None:
    assert lab.delete(shared_fixture("cilium", "http-sw-app.yaml")) == [
        'service "deathstar" deleted', 'deployment.apps "deathstar" deleted', 'pod "tiefighter" deleted',
        'pod "xwing" deleted']
    assert lab.delete_object("cnp", "rule1") == 'ciliumnetworkpolicy.cilium.io "rule1" deleted'
    assert [p for p in lab.list("pods", "default")] == []
    assert lab.list("cep", "default") == []
