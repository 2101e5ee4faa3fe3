"""Hubble metrics on real lab traffic: the Star Wars demo under the L3/L4 and the L7 policy,
every flow the relay has fed into the handler set of the seed's cilium-config."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ciliumlab import Lab
from ciliumlab.hubble.metrics import HubbleMetrics
from ciliumlab.hubble.types import FlowsRequest
from tests.conftest import shared_fixture

from .flows import labelsets, scrape, series, value

SEED = ("dns drop tcp flow port-distribution icmp httpV2:exemplars=true;labelsContext=source_ip,source_namespace,"
        "source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction")
PROMTOOL = shutil.which("promtool") or ("/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None)


def lab_flows(policy: str, *commands: tuple[str, str]) -> list[dict]:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", policy))
    for pod, command in commands:
        lab.exec(pod, command)
    return [r["flow"] for r in lab.hubble.relay.get_flows(FlowsRequest(number=0)) if "flow" in r]


@pytest.fixture(scope="module")
def l3l4_flows() -> list[dict]:
    return lab_flows("sw_l3_l4_policy.yaml",
                     ("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"),
                     ("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing "
                               "--connect-timeout 2"))


@pytest.fixture(scope="module")
def l7_flows() -> list[dict]:
    return lab_flows("sw_l3_l4_l7_policy.yaml",
                     ("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"),
                     ("tiefighter", "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"))


def fed(flows: list[dict], spec: str = SEED) -> HubbleMetrics:
    m = HubbleMetrics.from_config(spec)
    for f in flows:
        m.process(f)
    return m


def test_l3l4_policy_drops_and_flow_totals(l3l4_flows):
    m = fed(l3l4_flows)
    dropped = [f for f in l3l4_flows if f["verdict"] == "DROPPED"]
    assert dropped  # xwing's SYNs to deathstar
    assert value(m, "hubble_drop_total", protocol="TCP", reason="POLICY_DENIED") == len(dropped)
    assert len(series(m, "hubble_drop_total")) == 1
    assert sum(series(m, "hubble_flows_processed_total").values()) == len(l3l4_flows)
    # the policy verdict that denied xwing, and the drop events themselves
    assert value(m, "hubble_flows_processed_total", protocol="TCP", type="PolicyVerdict", subtype="",
                 verdict="DROPPED") == 1
    assert value(m, "hubble_flows_processed_total", protocol="TCP", type="Drop", subtype="",
                 verdict="DROPPED") == len(dropped) - 1
    assert value(m, "hubble_flows_processed_total", protocol="TCP", type="Trace", subtype="to-endpoint",
                 verdict="FORWARDED") > 0
    assert m.errors == 0


def test_l3l4_policy_ports_and_flags(l3l4_flows):
    m = fed(l3l4_flows)
    # only service ports: DNS to kube-dns and HTTP to deathstar, never an ephemeral reply port
    ports = {(labels["protocol"], labels["port"]) for labels in labelsets(m, "hubble_port_distribution_total")}
    assert ports == {("TCP", "80"), ("UDP", "53")}
    flags = {labels["flag"] for labels in labelsets(m, "hubble_tcp_flags_total")}
    assert {"SYN", "SYN-ACK", "FIN"} <= flags
    assert {labels["family"] for labels in labelsets(m, "hubble_tcp_flags_total")} == {"IPv4"}
    # no DNS proxy and no HTTP proxy under an L3/L4 policy: those families stay empty
    assert series(m, "hubble_dns_queries_total") == {}
    assert series(m, "hubble_http_requests_total") == {}
    assert series(m, "hubble_icmp_total") == {}
    assert value(m, "hubble_lost_events_total", source="hubble_ring_buffer") == 0


def test_l7_policy_httpv2_labels_describe_the_request(l7_flows):
    m = fed(l7_flows)
    requests = [f for f in l7_flows if f.get("l7", {}).get("type") == "REQUEST" and "http" in f["l7"]]
    assert len(requests) == 2
    client_ip = requests[0]["IP"]["source"]
    server_ips = {f["IP"]["destination"] for f in requests}
    got = labelsets(m, "hubble_http_requests_total")
    assert [(g["method"], g["status"]) for g in got] == [("POST", "200"), ("PUT", "403")]
    for g in got:
        assert g["source_ip"] == client_ip
        assert g["destination_ip"] in server_ips
        assert (g["source_namespace"], g["source_workload"]) == ("default", "")  # tiefighter is a bare pod
        assert (g["destination_namespace"], g["destination_workload"]) == ("default", "deathstar")
        assert (g["traffic_direction"], g["reporter"], g["protocol"]) == ("ingress", "server", "HTTP/1.1")
    counts = [v for _, v in sorted(series(m, "hubble_http_request_duration_seconds_count").items(),
                                   key=lambda kv: sorted(kv[0]))]
    assert sum(counts) == 2
    # the denied PUT is an L7 drop: counted by drop with the L7 protocol
    assert value(m, "hubble_drop_total", protocol="HTTP", reason="DROP_REASON_UNKNOWN") == 1
    assert value(m, "hubble_flows_processed_total", protocol="HTTP", type="L7", subtype="HTTP",
                 verdict="FORWARDED") == 3
    assert sum(series(m, "hubble_flows_processed_total").values()) == len(l7_flows)


def test_l7_policy_policy_and_world_handlers(l7_flows):
    m = fed(l7_flows, "policy flows-to-world:port")
    verdicts = series(m, "hubble_policy_verdicts_total")
    assert verdicts[frozenset({"direction": "ingress", "match": "l7/http", "action": "dropped"}.items())] == 1
    assert verdicts[frozenset({"direction": "ingress", "match": "l7/http", "action": "forwarded"}.items())] == 3
    assert any(dict(k)["match"] == "l3-l4" for k in verdicts)
    assert series(m, "hubble_flows_to_world_total") == {}  # nothing left the cluster


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
def test_promtool_accepts_lab_metrics(l3l4_flows, l7_flows):
    m = fed(l3l4_flows + l7_flows)
    body, content_type = m.expose()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == ""
    assert len(scrape(m)) > 10
