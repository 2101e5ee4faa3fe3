"""Section A of spec/policy-scenarios.md (Star Wars), beyond the demo sequence, through traffic."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from tests.conftest import shared_fixture
from tests.e2e.kit import http, ping, pod_ip

DS = "deathstar.default.svc.cluster.local"


@pytest.fixture
def sw() -> Lab:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    return lab


def deathstar(lab: Lab) -> dict:
    return next(p for p in lab.list("pods", "default") if p["metadata"]["name"].startswith("deathstar-"))


def test_sw09_l7_paths_and_methods_match_exactly(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    assert http(sw, "tiefighter", DS, method="POST", path="/v1/request-landing") == "FORWARDED"
    for method, path in (("GET", "/v1/request-landing"), ("POST", "/v1/request-landing/"),
                         ("POST", "/v1/request-landing/x"), ("POST", "/V1/REQUEST-LANDING")):
        assert http(sw, "tiefighter", DS, method=method, path=path) == "L7-403", (method, path)


def test_sw09_subtree_regex(sw: Lab) -> None:
    text = shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml").read_text().replace('"/v1/request-landing"', '"/v1/.*"')
    sw.apply(text)
    assert http(sw, "tiefighter", DS, method="POST", path="/v1/request-landing/x") == "FORWARDED"


def test_sw10_query_string_is_part_of_the_path(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    assert http(sw, "tiefighter", DS, method="POST", path="/v1/request-landing?fast=1") == "L7-403"


def test_sw11_other_ports_and_icmp_dropped(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    ip = deathstar(sw)["status"]["podIP"]
    assert http(sw, "tiefighter", f"{ip}:8080") == "DROPPED/133"
    assert ping(sw, "tiefighter", ip) == "DROPPED/133"
    assert http(sw, "tiefighter", f"{ip}:80", method="POST", path="/v1/request-landing") == "FORWARDED"


def test_sw12_kubelet_on_the_node_is_never_blocked(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    pod = deathstar(sw)
    node_name = pod["spec"]["nodeName"]
    ip = pod["status"]["podIP"]
    r = sw.node_exec(node_name, f"curl -s -o /dev/null -w '%{{http_code}}' http://{ip}/")
    assert r.exit_code == 0 and r.stdout != "403"  # reached the app, not the proxy
    r = sw.node_exec(node_name, f"curl -s --connect-timeout 1 http://{ip}:8080/")
    assert r.exit_code == 7  # the app itself refuses: nothing listens on 8080


def test_sw13_default_deny_for_empire_keeps_rule1(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    sw.apply(shared_fixture("cilium", "sw_deny_policy.yaml"))
    assert http(sw, "tiefighter", DS, method="POST", path="/v1/request-landing") == "FORWARDED"
    tie = pod_ip(sw, "tiefighter")
    assert http(sw, "xwing", f"{tie}:80") == "DROPPED/133"
    assert http(sw, deathstar(sw)["metadata"]["name"], f"{tie}:80") == "DROPPED/133"


def test_sw14_deleting_the_policy_restores_access(sw: Lab) -> None:
    sw.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    assert http(sw, "xwing", DS, method="POST", path="/v1/request-landing") == "DROPPED/133"
    assert sw.delete_object("cnp", "rule1") == 'ciliumnetworkpolicy.cilium.io "rule1" deleted'
    r = sw.exec("xwing", f"curl -s -XPOST {DS}/v1/request-landing")
    assert (r.stdout, r.exit_code) == ("Ship landed\n", 0)
    assert all(not c["status"]["policy"]["ingress"]["enforcing"] for c in sw.list("cep", "default"))
