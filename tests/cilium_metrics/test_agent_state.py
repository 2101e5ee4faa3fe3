"""Scrape-time agent gauges agree with what `cilium-dbg` shows in the agent pod, and the
event-driven control-plane counters move with what the user does."""

from __future__ import annotations

import json
import re

from ciliumlab.cilium.datapath import events as ev

from .conftest import L7, SW_APP, TIEFIGHTER_EXHAUST, TIEFIGHTER_LANDING, dbg
from .scrape import series, value


def endpoint_rows(text: str) -> list[list[str]]:
    """Rows of `cilium-dbg endpoint list` (first lines of each endpoint), split on 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if re.match(r"^\d+\s", line)]


def test_endpoint_gauges_match_cilium_dbg_endpoint_list(sw_mlab):
    lab = sw_mlab.lab
    total = 0
    for node in lab.nodes:
        rows = endpoint_rows(dbg(lab, node, "cilium-dbg endpoint list"))
        body = sw_mlab.scrape(node)
        assert value(body, "cilium_endpoint") == len(rows)
        states = {labels[0][1]: v for labels, v in series(body, "cilium_endpoint_state").items()}
        assert states["ready"] == sum(1 for r in rows if r[-1] == "ready") == len(rows)
        assert all(v == 0 for s, v in states.items() if s != "ready")
        # enforcement columns: ingress/egress Enabled -> `ingress`, `egress`, `both`, `none`
        enforcement = {labels[0][1]: v for labels, v in series(body, "cilium_policy_endpoint_enforcement_status").items()}
        expected = {"none": 0, "ingress": 0, "egress": 0, "both": 0}
        for row in rows:
            key = {("Disabled", "Disabled"): "none", ("Enabled", "Disabled"): "ingress",
                   ("Disabled", "Enabled"): "egress", ("Enabled", "Enabled"): "both"}[(row[1], row[2])]
            expected[key] += 1
        assert {k: enforcement[k] for k in expected} == expected
        assert enforcement["audit-ingress"] == enforcement["audit-egress"] == enforcement["audit-both"] == 0
        total += len(rows)
    # 3 host + 3 health endpoints, coredns x2, the 4 Star Wars pods
    assert total == len(lab.nodes) * 2 + len(lab.cilium.endpoints)


def test_deathstar_ingress_enforcement_after_the_l3_l4_policy(sw_mlab):
    lab = sw_mlab.lab
    ingress = 0
    for node in lab.nodes:
        ingress += value(sw_mlab.scrape(node), "cilium_policy_endpoint_enforcement_status", enforcement="ingress")
    assert ingress == 2  # the two deathstar replicas


def test_policy_gauges_match_cilium_dbg_policy_get(sw_mlab):
    lab = sw_mlab.lab
    node = lab.nodes[0]
    text = dbg(lab, node, "cilium-dbg policy get")
    rules_json, revision = text.rsplit("Revision:", 1)
    body = sw_mlab.scrape(node)
    assert value(body, "cilium_policy") == len(json.loads(rules_json)) == 1
    assert value(body, "cilium_policy_max_revision") == int(revision)


def test_identities_match_cilium_dbg_identity_list(sw_mlab):
    lab = sw_mlab.lab
    node = lab.nodes[1]
    ids = [int(line.split()[0]) for line in dbg(lab, node, "cilium-dbg identity list").splitlines()[1:]
           if line[:1].isdigit()]
    body = sw_mlab.scrape(node)
    got = {labels[0][1]: v for labels, v in series(body, "cilium_identity").items()}
    assert got["reserved"] == sum(1 for i in ids if i < 256) == 10
    assert got["cluster_local"] == sum(1 for i in ids if 256 <= i < 1 << 24)
    assert got["node_local"] == sum(1 for i in ids if i >= 1 << 24)


def test_addresses_nodes_version(sw_mlab):
    lab = sw_mlab.lab
    for node in lab.nodes:
        status = dbg(lab, node, "cilium-dbg status")
        used = int(re.search(r"IPAM:\s+IPv4: (\d+)/254", status).group(1))
        body = sw_mlab.scrape(node)
        assert value(body, "cilium_ip_addresses", family="ipv4") == used
        assert series(body, "cilium_ip_addresses").keys() == {(("family", "ipv4"),)}
        assert value(body, "cilium_nodes_all_num") == 3
        assert value(body, "cilium_unreachable_nodes") == 0
        assert value(body, "cilium_unreachable_health_endpoints") == 0
        version = re.search(r"Cilium:\s+Ok\s+(\S+) \(v\S+-(\w+)\)", status)
        assert value(body, "cilium_version", version=version.group(1), revision=version.group(2),
                     arch="linux/amd64") == 1


def test_conntrack_entries_are_the_nodes_tcp_and_other_entries(sw_mlab):
    lab = sw_mlab.lab
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).exit_code == 0
    for node in lab.nodes:
        keys = [k for k, _e in lab.fabric.ct[node].items()]
        body = sw_mlab.scrape(node)
        gc = "cilium_datapath_conntrack_gc_entries"
        assert value(body, gc, family="ipv4", protocol="TCP", status="alive") == sum(1 for k in keys if k[0] == 6)
        assert value(body, gc, family="ipv4", protocol="non-TCP", status="alive") == sum(1 for k in keys if k[0] != 6)


def test_l7_policy_counts_proxy_records_and_redirects(mlab):
    lab = mlab.lab
    lab.apply(SW_APP)
    lab.apply(L7)
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert lab.exec("tiefighter", TIEFIGHTER_EXHAUST).stdout.strip() == "Access denied"
    deathstar_nodes = [p["spec"]["nodeName"] for p in lab.list("pod", "default", "class=deathstar")]
    totals = {"received": 0, "forwarded": 0, "denied": 0}
    for node in lab.nodes:
        body = mlab.scrape(node)
        records = [e for e in lab.events(node) if e.type == ev.ACCESS_LOG and e.http is not None]
        by_verdict = {"forwarded": sum(1 for e in records if e.l7.verdict == ev.L7_FORWARDED),
                      "denied": sum(1 for e in records if e.l7.verdict == ev.L7_DENIED)}
        assert value(body, "cilium_policy_l7_total", rule="received", proxy_type="envoy") == len(records)
        assert value(body, "cilium_policy_l7_total", rule="forwarded", proxy_type="envoy") == by_verdict["forwarded"]
        assert value(body, "cilium_policy_l7_total", rule="denied", proxy_type="envoy") == by_verdict["denied"]
        assert value(body, "cilium_policy_l7_received_total") == len(records)
        assert value(body, "cilium_policy_l7_denied_total") == by_verdict["denied"]
        assert value(body, "cilium_policy_l7_total", rule="received", proxy_type="fqdn") == 0
        totals["received"] += len(records)
        totals["forwarded"] += by_verdict["forwarded"]
        totals["denied"] += by_verdict["denied"]
        # one HTTP redirect (ingress port 80) per deathstar replica on the node
        redirects = value(body, "cilium_proxy_redirects", protocol_l7="http")
        assert (redirects or 0) == deathstar_nodes.count(node)
    # request + response of the allowed POST, the denied PUT (request, and its 403 response)
    assert totals["received"] >= 3 and totals["denied"] >= 1 and totals["forwarded"] >= 2


def test_policy_change_outcomes(mlab):
    lab = mlab.lab
    node = lab.nodes[2]
    body = mlab.scrape(node)
    assert value(body, "cilium_policy_change_total", outcome="success") == 0
    assert value(body, "cilium_policy_change_total", outcome="failure") == 0
    lab.apply(SW_APP)
    lab.apply(L7)
    body = mlab.scrape(node)
    assert value(body, "cilium_policy_change_total", outcome="success") == 1
    # accepted by the API server's schema, rejected by the agent (L7 rules need TCP)
    bad = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7-on-udp}
spec:
  endpointSelector: {matchLabels: {org: empire}}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: UDP}]
      rules: {http: [{method: GET}]}
"""
    lab.apply(bad)
    cnp = lab.get("ciliumnetworkpolicy", "l7-on-udp")
    assert cnp["status"]["conditions"][0]["status"] == "False"
    for n in lab.nodes:  # every agent imports (and fails) the same policy
        body = mlab.scrape(n)
        assert value(body, "cilium_policy_change_total", outcome="success") == 1
        assert value(body, "cilium_policy_change_total", outcome="fail") == 1
        assert value(body, "cilium_policy_import_errors_total") == 1
        assert value(body, "cilium_policy") == 1  # the bad rule is not loaded
    lab.delete_object("ciliumnetworkpolicy", "rule1")
    body = mlab.scrape(node)
    assert value(body, "cilium_policy_change_total", outcome="success") == 2
    assert value(body, "cilium_policy") == 0


def test_services_events_and_kubernetes_events(mlab):
    lab = mlab.lab
    node = lab.nodes[0]
    before = mlab.scrape(node)
    lab.apply(SW_APP)
    after = mlab.scrape(node)
    # deathstar's ClusterIP frontend is new on every node
    assert value(after, "cilium_services_events_total", action="add") == \
        (value(before, "cilium_services_events_total", action="add") or 0) + 1
    svc_events = value(after, "cilium_kubernetes_events_received_total", scope="Service", action="create",
                       valid="true", equal="false")
    assert svc_events == (value(before, "cilium_kubernetes_events_received_total", scope="Service", action="create",
                                valid="true", equal="false") or 0) + 1
    lab.delete_object("service", "deathstar")
    gone = mlab.scrape(node)
    assert value(gone, "cilium_services_events_total", action="delete") == 1
    assert value(gone, "cilium_kubernetes_events_total", scope="Service", action="delete", status="success") == 1
    # pods are watched on their own node only
    local_pods = {p["metadata"]["name"] for p in lab.list("pod") if p["spec"].get("nodeName") == node}
    created = value(gone, "cilium_kubernetes_events_total", scope="Pod", action="create", status="success") or 0
    assert created <= len({p["metadata"]["name"] for p in lab.store.list("Pod")})
    assert created >= len(local_pods & {"tiefighter", "xwing"})


def test_endpoint_regenerations_follow_endpoint_creation(mlab):
    """Endpoints present when the agent started (coredns, Hubble) were restored: regenerated,
    no CNI call. The Star Wars pods come through the CNI: PUT /v1/endpoint and a first build."""
    lab = mlab.lab
    restored = {n: sum(1 for r in lab.cilium.endpoints.values() if r.node == n) for n in lab.nodes}
    lab.apply(SW_APP)
    for node in lab.nodes:
        body = mlab.scrape(node)
        created = sum(1 for r in lab.cilium.endpoints.values() if r.node == node) - restored[node]
        regen = value(body, "cilium_endpoint_regenerations_total", outcome="success")
        assert regen == restored[node] + created
        assert value(body, "cilium_endpoint_regenerations_total", outcome="failure") == 0
        assert value(body, "cilium_endpoint_regeneration_time_stats_seconds_count", scope="total",
                     status="success") == regen
        puts = value(body, "cilium_agent_api_process_time_seconds_count", path="/v1/endpoint", method="PUT",
                     return_code="201")
        assert (puts or 0) == created
    assert sum(restored.values()) == 4 and len(lab.cilium.endpoints) == 8  # + deathstar x2, tiefighter, xwing


def test_controllers_run_with_lab_time(mlab):
    lab = mlab.lab
    node = lab.nodes[0]
    first = value(mlab.scrape(node), "cilium_controllers_runs_total", status="success")
    lab.clock.advance(120)
    second = value(mlab.scrape(node), "cilium_controllers_runs_total", status="success")
    assert second > first
    assert value(mlab.scrape(node), "cilium_controllers_failing") == 0
