"""Metrics and flow export end to end, the way a user of the lab meets them: traffic made with
`kubectl exec`, configuration changed by editing ConfigMaps, results read from the /metrics
endpoints (`lab.scrape`, or curl from a pod), from the agent pods' shells and from the files the
agents write on the nodes.

Counts are never hard-coded: each expectation is computed from the flows the relay holds.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

import ciliumlab
from ciliumlab import Lab
from ciliumlab.cli.main import cli
from ciliumlab.errors import NotFound
from tests.cilium_metrics.dashboards import configmap_dashboards, dashboard_metric_names
from tests.conftest import FIXTURES, shared_fixture
from tests.dbg.conftest import agent_pod

SW_APP = shared_fixture("cilium", "http-sw-app.yaml")
STARWARS = Path(ciliumlab.__file__).parent / "data" / "starwars"
L3_L4 = STARWARS / "sw_l3_l4_policy.yaml"
L7 = STARWARS / "sw_l3_l4_l7_policy.yaml"
SEED_VALUES = yaml.safe_load((FIXTURES / "seed" / "helm-values-hubble.yaml").read_text())

XWING_LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing --connect-timeout 2"
TIEFIGHTER_LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
EVENTS_LOG = "/var/run/cilium/hubble/events.log"
OPENMETRICS = "application/openmetrics-text"
BACKUP = re.compile(r"events-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})\.log")

DNS_VISIBILITY = FIXTURES / "dns-visibility.yaml"  # xwing's lookups through the DNS proxy

# xwing may only talk to the empire: its DNS queries to kube-system are dropped
XWING_EMPIRE_ONLY = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: xwing-empire-only}
spec:
  endpointSelector: {matchLabels: {class: xwing}}
  egress:
  - toEndpoints: [{matchLabels: {org: empire}}]
"""


# -- helpers -----------------------------------------------------------------------------------------
def starwars(*policies) -> Lab:
    lab = Lab()
    lab.apply(SW_APP)
    for policy in policies:
        lab.apply(policy)
    return lab


def configure(lab: Lab, changes: dict[str, str | None]) -> None:
    """Edit cilium-config as a user would (get, change `data`, apply); None removes a key."""
    cm = lab.get("configmap", "cilium-config", namespace="kube-system")
    for key, value in changes.items():
        if value is None:
            cm["data"].pop(key, None)
        else:
            cm["data"][key] = value
    assert lab.apply(cm) == ["configmap/cilium-config configured"]


def seed_static_export() -> dict[str, str]:
    """`hubble.export.static` of the seed's values, rendered into cilium-config as the chart does
    (allow/deny lists joined with commas, the field mask with spaces)."""
    static = SEED_VALUES["hubble"]["export"]["static"]
    assert static["enabled"]
    return {"hubble-export-file-path": static["filePath"],
            "hubble-export-allowlist": ",".join(static["allowList"]),
            "hubble-export-denylist": ",".join(static["denyList"]),
            "hubble-export-fieldmask": " ".join(static["fieldMask"])}


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
    return sum(s.value for s in samples(text)
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def sample_names(text: str) -> set[str]:
    return {s.name for s in samples(text)}


def scrape_all(lab: Lab, target: str) -> dict[str, str]:
    return {node: lab.scrape(target, node=node) for node in lab.nodes}


def agent_sh(lab: Lab, node: str, command: str):
    """A shell in the cilium agent pod of `node` (hostNetwork, the node's /var/run/cilium)."""
    return lab.exec(agent_pod(lab, node), command, namespace="kube-system", container="cilium-agent")


def agent_pods(lab: Lab) -> dict[str, str]:
    return {node: agent_pod(lab, node) for node in lab.nodes}


def uuids(lab: Lab) -> set[str]:
    return {f["uuid"] for f in lab.observe("--all")}


def new_flows(lab: Lab, seen: set[str], *flags: str) -> list[dict]:
    return [f for f in lab.observe("--all", *flags) if f["uuid"] not in seen]


def host_file(lab: Lab, node: str, path: str) -> Path:
    host = lab.disks.host_path(node, path)
    assert host is not None
    return host


def file_lines(lab: Lab, node: str, path: str) -> list[str]:
    """The lines of a node file, read through the node's agent pod (`cat`); [] if it does not exist."""
    result = agent_sh(lab, node, f"cat {path}")
    if result.exit_code != 0:
        assert "No such file" in result.stderr
        return []
    assert result.stdout == "" or result.stdout.endswith("\n"), f"{node}:{path} ends with a partial line"
    return result.stdout.splitlines()


def pod_node(lab: Lab, pod: str) -> str:
    return lab.get("pod", pod)["spec"]["nodeName"]


def node_ip(lab: Lab, node: str) -> str:
    addresses = lab.get("node", node)["status"]["addresses"]
    return next(a["address"] for a in addresses if a["type"] == "InternalIP")


# -- 1. the counters agree with the flows --------------------------------------------------------------
def test_drop_counters_agree_with_the_flows_and_the_relay():
    lab = starwars(L3_L4)
    seen = uuids(lab)
    hubble_before, agent_before = scrape_all(lab, "hubble"), scrape_all(lab, "cilium-agent")

    assert lab.exec("xwing", XWING_LANDING).exit_code == 28  # curl: connection timed out

    dropped = [f for f in new_flows(lab, seen) if f["verdict"] == "DROPPED"]
    assert dropped
    # denied on ingress, on the node of the deathstar pod the service picked
    (node,) = {f["node_name"] for f in dropped}
    (target,) = {f["destination"]["pod_name"] for f in dropped}
    assert target.startswith("deathstar-") and pod_node(lab, target) == node
    assert {(f["source"]["pod_name"], f["drop_reason_desc"], f["traffic_direction"]) for f in dropped} == \
        {("xwing", "POLICY_DENIED", "INGRESS")}
    # one drop notification per dropped packet: the SYN and its retransmission(s) within 2 s
    packets = [f for f in dropped if f["event_type"]["type"] == 1]
    assert len(packets) >= 2 and all(f["l4"]["TCP"]["flags"] == {"SYN": True} for f in packets)

    hubble_after, agent_after = scrape_all(lab, "hubble"), scrape_all(lab, "cilium-agent")
    for n in lab.nodes:
        here = [f for f in dropped if f["node_name"] == n]
        # Hubble counts every DROPPED flow, the policy-verdict notification included
        grown = (total(hubble_after[n], "hubble_drop_total", protocol="TCP", reason="POLICY_DENIED")
                 - total(hubble_before[n], "hubble_drop_total", protocol="TCP", reason="POLICY_DENIED"))
        assert grown == len(here), n
        # the agent's BPF metrics map counts dropped packets: the drop notifications only (the
        # policy verdict of the same SYN is a notification, not another drop)
        grown = (total(agent_after[n], "cilium_drop_count_total", direction="INGRESS", reason="Policy denied")
                 - total(agent_before[n], "cilium_drop_count_total", direction="INGRESS", reason="Policy denied"))
        assert grown == len([f for f in here if f["event_type"]["type"] == 1]), n
    assert len(dropped) == len(packets) + 1  # ...and Hubble shows one policy verdict for the connection

    # every flow the node Hubbles saw is in the relay, and counted once by the flow handler
    relay = lab.observe("--all")
    assert sum(total(text, "hubble_flows_processed_total") for text in hubble_after.values()) == len(relay)
    for n in lab.nodes:
        assert total(hubble_after[n], "hubble_flows_processed_total") == \
            len([f for f in relay if f["node_name"] == n]), n


# -- 2. httpV2 labelsContext and OpenMetrics -----------------------------------------------------------
@pytest.fixture(scope="module")
def l7_lab() -> Lab:
    """The Star Wars app under the L7 policy, after one tiefighter landing (read-only for tests)."""
    lab = starwars(L7)
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    return lab


def seed_http_labels() -> list[str]:
    (entry,) = [e for e in SEED_VALUES["hubble"]["metrics"]["enabled"] if e.startswith("httpV2:")]
    options = dict(opt.split("=", 1) for opt in entry.split(":", 1)[1].split(";"))
    return options["labelsContext"].split(",")


def test_httpv2_labels_context_describes_the_request(l7_lab):
    lab = l7_lab
    found = [(n, s) for n, text in scrape_all(lab, "hubble").items() for s in samples(text)
             if s.name == "hubble_http_requests_total"]
    assert len(found) == 1  # one request, counted once (on its response), on the server's node
    node, sample = found[0]
    assert sample.value == 1
    labels = sample.labels
    assert set(labels) == set(seed_http_labels()) | {"method", "protocol", "status", "reporter"}
    servers = {p["status"]["podIP"]: p for p in lab.list("pod", "default", "class=deathstar")}
    server = servers[labels["destination_ip"]]
    assert server["spec"]["nodeName"] == node
    assert labels == {
        "source_ip": lab.get("pod", "tiefighter")["status"]["podIP"],
        "source_namespace": "default",
        "source_workload": "",  # tiefighter is a bare pod
        "destination_ip": server["status"]["podIP"],
        "destination_namespace": "default",
        "destination_workload": "deathstar",
        "traffic_direction": "ingress",
        "method": "POST", "protocol": "HTTP/1.1", "status": "200", "reporter": "server",
    }
    text = lab.scrape("hubble", node=node)
    assert total(text, "hubble_http_request_duration_seconds_count", method="POST", reporter="server") == 1


def test_openmetrics_exposition_on_request(l7_lab):
    lab = l7_lab
    node = next(n for n in lab.nodes if "hubble_http_requests_total" in sample_names(lab.scrape("hubble", node=n)))
    body = lab.scrape("hubble", node=node, accept=OPENMETRICS)
    assert body.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(body)}
    assert families["hubble_http_requests"].type == "counter"
    (sample,) = [s for s in families["hubble_http_requests"].samples if s.name == "hubble_http_requests_total"]
    assert (sample.labels["method"], sample.labels["status"], sample.value) == ("POST", "200", 1)
    assert families["hubble_http_request_duration_seconds"].type == "histogram"
    _, content_type = lab.metrics.expose("hubble", node, OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text")
    # without the header: the Prometheus text format
    plain = lab.scrape("hubble", node=node)
    assert "# EOF" not in plain and plain.startswith("# HELP ")


# -- 3. hubble-metrics follows cilium-config ---------------------------------------------------------
def test_hubble_metrics_handlers_follow_cilium_config():
    lab = starwars()
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert any("hubble_tcp_flags_total" in sample_names(t) for t in scrape_all(lab, "hubble").values())
    pods = agent_pods(lab)

    configure(lab, {"hubble-metrics": "drop flow"})
    assert set(agent_pods(lab).values()).isdisjoint(pods.values())  # the chart's rollOutCiliumPods
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    for node, text in scrape_all(lab, "hubble").items():
        families = {f.name for f in text_string_to_metric_families(text)}
        assert families == {"hubble_drop", "hubble_flows_processed", "hubble_lost_events"}, node
        assert "hubble_tcp_flags_total" not in text
    assert sum(total(t, "hubble_flows_processed_total") for t in scrape_all(lab, "hubble").values()) > 0

    # a list the agent refuses: reported per node, the endpoint is gone, the lab carries on
    configure(lab, {"hubble-metrics": "httpV2 http"})
    for node in lab.nodes:
        assert lab.hubble.outputs[node].errors == ["hubble-metrics: plugin httpV2 conflicts with plugin http"]
        with pytest.raises(NotFound):
            lab.scrape("hubble", node=node)
        assert "cilium_version" in lab.scrape("cilium-agent", node=node)
    seen = uuids(lab)
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert new_flows(lab, seen)  # Hubble itself still observes

    # empty: nothing is served, and no error is left behind from the refused value
    configure(lab, {"hubble-metrics": ""})
    for node in lab.nodes:
        with pytest.raises(NotFound):
            lab.scrape("hubble", node=node)
        assert lab.hubble.outputs[node].errors == []

    configure(lab, {"hubble-metrics": "tcp"})
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert any("hubble_tcp_flags_total" in sample_names(t) for t in scrape_all(lab, "hubble").values())


# -- 4. the seed's static export, seen from the agent pod ---------------------------------------------
def test_static_export_through_the_agent_pod():
    lab = starwars(L3_L4)
    export = seed_static_export()
    configure(lab, export)
    mask = export["hubble-export-fieldmask"].split()
    seen = uuids(lab)

    assert lab.exec("xwing", XWING_LANDING).exit_code == 28
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    lab.apply(XWING_EMPIRE_ONLY)
    assert lab.exec("xwing", "nslookup deathstar.default.svc.cluster.local").exit_code != 0

    flows = new_flows(lab, seen)
    kube_system_drops = [f for f in flows if f["verdict"] == "DROPPED" and "kube-system" in
                         (f.get("source", {}).get("namespace"), f.get("destination", {}).get("namespace"))]
    assert kube_system_drops  # the denylist has something to deny

    deathstar_node = next(f["node_name"] for f in flows if f["verdict"] == "DROPPED"
                          and f["destination"].get("pod_name", "").startswith("deathstar-"))
    listing = agent_sh(lab, deathstar_node, "ls /var/run/cilium/hubble")
    assert listing.exit_code == 0 and "events.log" in listing.stdout.split()
    tail = agent_sh(lab, deathstar_node, f"tail -n 5 {EVENTS_LOG}")
    assert tail.exit_code == 0 and tail.stdout.endswith("\n")
    tailed = tail.stdout.splitlines()
    assert tailed

    allowed_top = {p.split(".")[0] for p in mask}
    for node in lab.nodes:
        lines = file_lines(lab, node, EVENTS_LOG)
        expected = [f for f in flows if f["node_name"] == node and f["verdict"] in ("DROPPED", "ERROR")
                    and "kube-system" not in (f.get("source", {}).get("namespace"),
                                              f.get("destination", {}).get("namespace"))]
        assert len(lines) == len(expected), node
        for line in lines:
            event = json.loads(line)
            assert list(event) == ["flow", "node_name", "time"]
            assert line == json.dumps(event, separators=(",", ":"))  # compact, one event per line
            flow = event["flow"]
            assert set(flow) <= allowed_top and flow["verdict"] == "DROPPED"
            assert event["node_name"] == flow["node_name"] == node and event["time"] == flow["time"]
            for side in ("source", "destination"):
                assert set(flow[side]) <= {"namespace", "pod_name"}
                assert flow[side].get("namespace") != "kube-system"
        exported = sorted((json.loads(line)["flow"]["time"], json.loads(line)["flow"]["source"]["pod_name"])
                          for line in lines)
        assert exported == sorted((f["time"], f["source"]["pod_name"]) for f in expected), node
        if node == deathstar_node:
            assert tailed == lines[-5:]

    # the file reads back with hubble: as many flows as lines
    host = host_file(lab, deathstar_node, EVENTS_LOG)
    result = CliRunner().invoke(cli, ["hubble", "observe", "--input-file", str(host), "-o", "json"])
    assert result.exit_code == 0, result.output
    read_back = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    lines = file_lines(lab, deathstar_node, EVENTS_LOG)
    assert len(read_back) == len(lines)
    assert [r["flow"] for r in read_back] == [json.loads(line)["flow"] for line in lines]


# -- 5. rotation with lumberjack's names ---------------------------------------------------------------
def test_static_export_rotates_with_real_names_and_loses_no_line():
    """1 MiB per file without filters or field mask (~1.6 KB a line): 700 pings between two
    nodes write ~2.2 MiB per node, two rotations each, well inside the 5 kept backups and the
    4095-flow rings the relay reads for comparison."""
    lab = starwars()
    configure(lab, {"hubble-export-file-path": EVENTS_LOG, "hubble-export-file-max-size-mb": "1"})
    seen = uuids(lab)
    started = lab.clock.now()
    xwing_ip = lab.get("pod", "xwing")["status"]["podIP"]
    assert pod_node(lab, "tiefighter") != pod_node(lab, "xwing")
    result = lab.exec("tiefighter", f"ping -c 700 -i 0.2 {xwing_ip}")
    assert result.exit_code == 0 and "700 packets received" in result.stdout
    finished = lab.clock.now()

    rotated_nodes = 0
    for node in lab.nodes:
        listing = agent_sh(lab, node, "ls /var/run/cilium/hubble")
        names = listing.stdout.split() if listing.exit_code == 0 else []
        backups = sorted(n for n in names if n != "events.log")
        assert all(BACKUP.fullmatch(n) for n in backups), backups
        for name in backups:
            stamp = datetime.strptime(BACKUP.fullmatch(name).group(1), "%Y-%m-%dT%H-%M-%S.%f").replace(tzinfo=UTC)
            assert started - 0.001 <= stamp.timestamp() <= finished + 0.001, name
        expected = [f["uuid"] for f in new_flows(lab, seen, "--node-name", node)]
        if not expected:
            assert names == ["events.log"] and host_file(lab, node, EVENTS_LOG).stat().st_size == 0
            continue
        rotated_nodes += bool(backups)
        # backups oldest first (their names sort by time), then the live file
        lines = []
        for name in [*backups, "events.log"]:
            host = host_file(lab, node, f"/var/run/cilium/hubble/{name}")
            assert host.stat().st_size <= 1024 * 1024
            text = host.read_text()
            assert text.endswith("\n"), name  # no partial line at any file's end
            lines += text.splitlines()
        # the agent pod reads the same live file
        assert file_lines(lab, node, EVENTS_LOG) == host_file(lab, node, EVENTS_LOG).read_text().splitlines()
        events = [json.loads(line) for line in lines]
        assert [e["flow"]["uuid"] for e in events] == expected, node  # all of them, once, in order
    assert rotated_nodes == 2  # both ping ends rotated


# -- 6. the dynamic exporter, reconfigured in place ----------------------------------------------------
FLOWLOGS = """
flowLogs:
- name: xwing
  filePath: /var/run/cilium/hubble/xwing.log
  fieldMask: [time, source.pod_name, destination.pod_name, verdict]
  includeFilters:
  - source_pod: [default/xwing]
- name: tiefighter
  filePath: /var/run/cilium/hubble/tiefighter.log
  fieldMask: [time, source.pod_name, destination.pod_name, verdict]
  includeFilters:
  - source_pod: [default/tiefighter]
    verdict: [FORWARDED]
"""

FLOWLOGS_EDITED = """
flowLogs:
- name: xwing
  filePath: /var/run/cilium/hubble/xwing.log
  fieldMask: [time, source.pod_name, destination.pod_name, verdict]
  includeFilters:
  - source_pod: [default/xwing]
    verdict: [DROPPED]
"""


def flowlog_configmap(content: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cilium-flowlog-config", "namespace": "kube-system"},
            "data": {"flowlogs.yaml": content}}


def traffic(lab: Lab) -> None:
    assert lab.exec("xwing", XWING_LANDING).exit_code == 28
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"


def dynamic_metrics(lab: Lab, node: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples(lab.scrape("hubble", node=node))
            if s.name.startswith("hubble_dynamic_exporter_")}


def test_dynamic_exporter_is_reconfigured_in_place():
    lab = starwars(L3_L4)
    lab.apply(flowlog_configmap(FLOWLOGS))
    configure(lab, {"hubble-flowlogs-config-path": "/flowlog-config/flowlogs.yaml"})
    pods = agent_pods(lab)
    config_version = lab.get("configmap", "cilium-config", namespace="kube-system")["metadata"]["resourceVersion"]
    seen = uuids(lab)
    traffic(lab)
    flows = new_flows(lab, seen)

    def lines(node: str, name: str) -> list[dict]:
        return [json.loads(line)["flow"] for line in file_lines(lab, node, f"/var/run/cilium/hubble/{name}.log")]

    counts = {}
    for node in lab.nodes:
        assert agent_sh(lab, node, "cat /flowlog-config/flowlogs.yaml").stdout == FLOWLOGS
        xwing, tie = lines(node, "xwing"), lines(node, "tiefighter")
        here = [f for f in flows if f["node_name"] == node]
        assert len(xwing) == len([f for f in here if f["source"].get("pod_name") == "xwing"]), node
        assert len(tie) == len([f for f in here if f["source"].get("pod_name") == "tiefighter"
                                and f["verdict"] == "FORWARDED"]), node
        assert all(set(f) <= {"time", "source", "destination", "verdict"} for f in xwing + tie)
        assert {f["source"]["pod_name"] for f in xwing} <= {"xwing"}
        assert {(f["source"]["pod_name"], f["verdict"]) for f in tie} <= {("tiefighter", "FORWARDED")}
        counts[node] = (len(xwing), len(tie))
        m = dynamic_metrics(lab, node)
        assert m[("hubble_dynamic_exporter_reconfigurations_total", (("op", "add"),))] == 2
        assert m[("hubble_dynamic_exporter_up", (("name", "xwing"),))] == 1
        assert m[("hubble_dynamic_exporter_up", (("name", "tiefighter"),))] == 1
        assert m[("hubble_dynamic_exporter_exporters_total", (("status", "active"),))] == 2
    assert {v for node_counts in counts.values() for v in node_counts} != {0}
    # xwing's flow log has its forwarded DNS and its dropped SYNs (and its socket-LB events)
    assert {f["verdict"] for n in lab.nodes for f in lines(n, "xwing")} >= {"FORWARDED", "DROPPED", "TRANSLATED"}
    hash_before = dynamic_metrics(lab, lab.nodes[0])[("hubble_dynamic_exporter_config_hash", ())]

    # edit the flow log ConfigMap only: one flow log removed, the other one's filter changed
    lab.clock.advance(30)
    lab.apply(flowlog_configmap(FLOWLOGS_EDITED))
    assert agent_pods(lab) == pods  # no agent restart
    assert lab.get("configmap", "cilium-config", namespace="kube-system")["metadata"]["resourceVersion"] \
        == config_version
    edited_at = lab.clock.now()
    seen = uuids(lab)
    traffic(lab)
    flows = new_flows(lab, seen)
    for node in lab.nodes:
        assert agent_sh(lab, node, "cat /flowlog-config/flowlogs.yaml").stdout == FLOWLOGS_EDITED
        xwing, tie = lines(node, "xwing"), lines(node, "tiefighter")
        assert len(tie) == counts[node][1], node  # removed: no longer written
        added = xwing[counts[node][0]:]
        assert len(added) == len([f for f in flows if f["node_name"] == node
                                  and f["source"].get("pod_name") == "xwing" and f["verdict"] == "DROPPED"]), node
        assert {f["verdict"] for f in added} <= {"DROPPED"}
        counts[node] = (len(xwing), len(tie))
        m = dynamic_metrics(lab, node)
        assert m[("hubble_dynamic_exporter_reconfigurations_total", (("op", "update"),))] == 1
        assert m[("hubble_dynamic_exporter_reconfigurations_total", (("op", "remove"),))] == 1
        assert ("hubble_dynamic_exporter_up", (("name", "tiefighter"),)) not in m
        assert m[("hubble_dynamic_exporter_exporters_total", (("status", "active"),))] == 1
        assert m[("hubble_dynamic_exporter_config_hash", ())] != hash_before
        assert m[("hubble_dynamic_exporter_config_last_applied", ())] == pytest.approx(edited_at, abs=1)
    assert sum(c[0] for c in counts.values()) > 0

    # an `end` in the past: the flow log stays configured but inactive
    end = datetime.fromtimestamp(lab.clock.now() - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lab.apply(flowlog_configmap(FLOWLOGS_EDITED + f"  end: \"{end}\"\n"))
    assert agent_pods(lab) == pods
    traffic(lab)
    for node in lab.nodes:
        assert len(lines(node, "xwing")) == counts[node][0], node
        m = dynamic_metrics(lab, node)
        assert m[("hubble_dynamic_exporter_up", (("name", "xwing"),))] == 0
        assert m[("hubble_dynamic_exporter_exporters_total", (("status", "inactive"),))] == 1
        assert m[("hubble_dynamic_exporter_exporters_total", (("status", "active"),))] == 0
        assert m[("hubble_dynamic_exporter_reconfigurations_total", (("op", "update"),))] == 2

    # the agents restart for a new handler list: the dynamic exporter's series are still served
    configure(lab, {"hubble-metrics": "drop flow"})
    for node in lab.nodes:
        m = dynamic_metrics(lab, node)
        assert m[("hubble_dynamic_exporter_up", (("name", "xwing"),))] == 0, node
        listing = agent_sh(lab, node, "ls /var/run/cilium/hubble /flowlog-config")
        assert "/flowlog-config:\nflowlogs.yaml\n" in listing.stdout


# -- 7. the Hubble dashboard's metrics all exist ---------------------------------------------------------
def hubble_dashboard_names() -> set[str]:
    dashboards = {k: v for k, v in configmap_dashboards().items() if k.startswith("grafana-hubble-dashboard/")}
    assert dashboards
    return {n for d in dashboards.values() for n in dashboard_metric_names(d) if n.startswith("hubble_")}


def exposed_hubble_names(lab: Lab) -> set[str]:
    return set().union(*(sample_names(t) for t in scrape_all(lab, "hubble").values()))


def test_hubble_dashboard_metrics_are_exposed_after_traffic():
    queried = hubble_dashboard_names()
    lab = starwars(L7)
    lab.apply(DNS_VISIBILITY)
    assert lab.exec("xwing", XWING_LANDING).exit_code == 28  # DNS through the proxy, then dropped SYNs
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"  # HTTP
    assert lab.exec("xwing", "nslookup tiefighter.default.svc.cluster.local").exit_code != 0  # NXDOMAIN
    xwing_ip = lab.get("pod", "xwing")["status"]["podIP"]
    assert lab.exec("tiefighter", f"ping -c 1 {xwing_ip}").exit_code == 0  # ICMP
    assert lab.exec("tiefighter", "ping -c 1 1.1.1.1").exit_code == 0  # and to the world
    exposed = exposed_hubble_names(lab)

    # with the seed's handlers everything is there but `hubble_http_responses_total`: only the
    # deprecated `http` handler has it, and `http` cannot run beside the seed's `httpV2`
    assert queried - exposed == {"hubble_http_responses_total"}
    texts = "".join(scrape_all(lab, "hubble").values())
    assert total(texts, "hubble_icmp_total", family="IPv4", type="EchoRequest") >= 1
    assert total(texts, "hubble_icmp_total", family="IPv4", type="EchoReply") >= 1
    assert total(texts, "hubble_tcp_flags_total", flag="SYN-ACK") >= 1
    assert total(texts, "hubble_drop_total", reason="POLICY_DENIED") >= 1
    assert total(texts, "hubble_dns_responses_total", rcode="Non-Existent Domain") >= 1

    # so the test swaps httpV2 for http in cilium-config (the agents roll, counters start over)
    seed = SEED_VALUES["hubble"]["metrics"]["enabled"]
    configure(lab, {"hubble-metrics": " ".join("http" if e.startswith("httpV2") else e for e in seed)})
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert {"hubble_http_responses_total", "hubble_http_requests_total",
            "hubble_http_request_duration_seconds_bucket"} <= exposed_hubble_names(lab)
    assert queried <= exposed | exposed_hubble_names(lab)


# -- 8. Prometheus-style scrapes from inside the cluster -------------------------------------------------
def test_in_cluster_scrape_of_the_node_listeners(l7_lab):
    lab = l7_lab
    worker = node_ip(lab, "k8s-w1")
    assert worker == "192.168.10.101"
    agent = lab.exec("tiefighter", f"curl -s {worker}:9962/metrics | grep cilium_version")
    assert agent.exit_code == 0
    (line,) = [ln for ln in agent.stdout.splitlines() if ln.startswith("cilium_version{")]
    assert line.endswith(" 1.0") and f'version="{lab.cluster_config.cilium_version}"' in line

    before = total(lab.scrape("hubble", node="k8s-w1"), "hubble_flows_processed_total")
    hubble = lab.exec("tiefighter", f"curl -s {worker}:9965/metrics | grep '^hubble_flows_processed_total'")
    assert hubble.exit_code == 0 and hubble.stdout.strip()
    # the same live counters (the scrape's own connection adds flows on the way, tiefighter runs on k8s-w1)
    scraped = sum(float(ln.rsplit(" ", 1)[1]) for ln in hubble.stdout.splitlines())
    assert before <= scraped <= total(lab.scrape("hubble", node="k8s-w1"), "hubble_flows_processed_total")
    om = lab.exec("tiefighter", f"curl -s -H 'Accept: {OPENMETRICS}' {worker}:9965/metrics | tail -n 1")
    assert om.stdout == "# EOF\n"

    operator_node = lab.metrics.operator_node()
    operator = lab.exec("tiefighter", f"curl -s {node_ip(lab, operator_node)}:9963/metrics | grep -c '^cilium_operator_'")
    assert operator.exit_code == 0 and int(operator.stdout) > 0


def test_series_of_a_deleted_pod_go_away_a_minute_later():
    """Cardinality clean-up: with `drop:sourceContext=pod`, xwing's drop series stays while the pod
    is deleted, and is gone once a minute has passed (Cilium's delayed DeletePartialMatch)."""
    lab = starwars(L3_L4)
    configure(lab, {"hubble-metrics": "drop:sourceContext=pod;destinationContext=pod flow"})
    lab.exec("xwing", XWING_LANDING)

    def xwing_drops() -> float:
        return sum(total(text, "hubble_drop_total", source="default/xwing") for text in
                   scrape_all(lab, "hubble").values())
    assert xwing_drops() > 0
    lab.remove("pod", "xwing")
    lab.clock.sleep(30)
    assert xwing_drops() > 0
    lab.clock.sleep(31)
    assert xwing_drops() == 0
    assert sum(total(text, "hubble_flows_processed_total") for text in scrape_all(lab, "hubble").values()) > 0
