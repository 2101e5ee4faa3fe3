"""The /metrics bodies: valid for promtool, OpenMetrics on request, one registry per process."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import REGISTRY
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from ciliumlab.cilium.metrics import AGENT, OPERATOR, AgentMetrics

from .conftest import L7, TIEFIGHTER_EXHAUST, TIEFIGHTER_LANDING
from .scrape import families, sample_names, value

PROMTOOL = shutil.which("promtool") or shutil.which("promtool", path="/usr/bin")
OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


@pytest.fixture
def busy(sw_mlab):
    """The scenario plus L7 traffic and a minute of lab time (every kind of series present)."""
    lab = sw_mlab.lab
    lab.apply(L7)
    lab.exec("tiefighter", TIEFIGHTER_LANDING)
    lab.exec("tiefighter", TIEFIGHTER_EXHAUST)
    lab.clock.advance(90)
    return sw_mlab


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
def test_promtool_check_metrics_passes(busy):
    bodies = {node: agent.expose()[0] for node, agent in busy.agents.items()}
    bodies["operator"] = busy.operator.expose()[0]
    for name, body in bodies.items():
        proc = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=60)
        assert proc.returncode == 0, (name, proc.stdout.decode(), proc.stderr.decode())


def test_text_format_by_default(busy):
    body, content_type = busy.agents["k8s-w1"].expose()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert body.startswith(b"# HELP ")
    assert not any(name.endswith("_created") for name in sample_names(body))


def test_openmetrics_when_the_scraper_asks(busy):
    for expose in (busy.agents["k8s-w2"].expose, busy.operator.expose):
        body, content_type = expose(OPENMETRICS)
        assert content_type.startswith("application/openmetrics-text")
        assert body.endswith(b"# EOF\n")
        fams = {f.name: f for f in openmetrics_families(body.decode())}
        assert fams  # parses
    body, _ = busy.agents["k8s-w2"].expose(OPENMETRICS)
    fams = {f.name: f for f in openmetrics_families(body.decode())}
    assert fams["cilium_forward_count"].type == "counter"
    assert fams["cilium_endpoint"].type == "gauge"
    assert fams["cilium_endpoint_regeneration_time_stats_seconds"].type == "histogram"


def test_every_exposed_family_is_in_the_catalog_with_its_type(busy):
    agent_fams = families(busy.agents["k8s-ctr"].expose()[0])
    operator_fams = families(busy.operator.expose()[0])
    for fams, catalog in ((agent_fams, AGENT), (operator_fams, OPERATOR)):
        for name, kind in fams.items():
            if "_process_" in name:
                continue
            full = name + "_total" if kind == "counter" else name
            assert full in catalog, name
            assert {"unknown": "untyped"}.get(kind, kind) == catalog[full].type, name


def test_process_metrics_are_namespaced(busy):
    agent = sample_names(busy.agents["k8s-ctr"].expose()[0])
    operator = sample_names(busy.operator.expose()[0])
    for suffix in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                   "process_open_fds", "process_start_time_seconds"):
        assert f"cilium_{suffix}" in agent
        assert f"cilium_operator_{suffix}" in operator
    assert not any(n.startswith("cilium_operator_") for n in agent)
    assert not any(n.startswith("cilium_") and not n.startswith("cilium_operator_") for n in operator)


def test_each_agent_has_its_own_registry_and_none_uses_the_global_one(busy):
    registries = [a.registry for a in busy.agents.values()] + [busy.operator.registry]
    assert len({id(r) for r in registries}) == len(registries)
    assert REGISTRY not in registries
    assert "cilium_drop_count_total" not in {s.name for m in REGISTRY.collect() for s in m.samples}


def test_label_values_are_human_and_upper_case(busy):
    for agent in busy.agents.values():
        for line in agent.expose()[0].decode().splitlines():
            if line.startswith("cilium_drop_count_total{"):
                assert 'direction="INGRESS"' in line or 'direction="EGRESS"' in line
                assert 'reason="Policy denied"' in line


def test_operator_ipam_gauges_add_up_the_agents(busy):
    lab = busy.lab
    body = busy.operator.expose()[0]
    used = sum(value(busy.scrape(n), "cilium_ip_addresses", family="ipv4") for n in lab.nodes)
    assert value(body, "cilium_operator_ipam_ips", type="used") == used
    assert value(body, "cilium_operator_ipam_ips", type="available") == 3 * 254 - used
    assert value(body, "cilium_operator_ipam_ips", type="needed") == 0
    assert value(body, "cilium_operator_ipam_nodes", category="total") == 3
    assert value(body, "cilium_operator_ipam_nodes", category="at-capacity") == 0
    assert value(body, "cilium_operator_ipam_available") == 3
    assert value(body, "cilium_operator_ipam_resync_total") == 3  # one per CiliumNode


def test_unknown_node_is_rejected(mlab):
    with pytest.raises(KeyError):
        AgentMetrics(mlab.lab, "k8s-w9")
