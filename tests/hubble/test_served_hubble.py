"""The lab's relay served over gRPC: `ciliumlab hubble --server` prints what the embedded lab prints."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ciliumlab import Lab
from ciliumlab.cli.main import cli
from ciliumlab.hubble.grpc import serve_observer
from tests.conftest import shared_fixture


@pytest.fixture(scope="module")
def served():
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    lab.exec("tiefighter", "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port")
    lab.exec("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing --connect-timeout 2")
    server = serve_observer(lab.hubble.relay, "127.0.0.1:0", relay=True, version=lab.hubble.version)
    yield lab, f"127.0.0.1:{server.port}"
    server.stop(0)


@pytest.mark.parametrize("flags", [
    ("--pod", "deathstar", "--protocol", "http"),
    ("--pod", "deathstar", "--verdict", "DROPPED"),
    ("--from-pod", "xwing", "-o", "json", "--last", "5"),
    ("--to-pod", "deathstar", "-o", "dict", "--last", "3"),
])
def test_cli_over_grpc_matches_embedded(served, flags) -> None:
    lab, address = served
    result = CliRunner().invoke(cli, ["hubble", "observe", "--server", address, *flags])
    assert result.exit_code == 0, result.output
    assert result.stdout == lab.hubble_observe(*flags)
    assert result.stdout.strip()


def test_status_and_list_nodes(served) -> None:
    lab, address = served
    status = CliRunner().invoke(cli, ["hubble", "status", "--server", address])
    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert lines[0] == f"Healthcheck (via {address}): Ok"
    assert lines[1].startswith("Current/Max Flows: ") and lines[1].endswith("/12,285 (%.2f%%)" % (
        100 * sum(len(o.ring) for o in lab.hubble.observers.values()) / 12285))
    assert lines[3] == "Connected Nodes: 3/3"
    nodes = CliRunner().invoke(cli, ["hubble", "list", "nodes", "--server", address])
    assert nodes.exit_code == 0, nodes.output
    rows = nodes.stdout.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "AGE", "FLOWS/S", "CURRENT/MAX-FLOWS"]
    assert [r.split()[0] for r in rows[1:]] == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    assert all(r.split()[1] == "Connected" for r in rows[1:])


def test_unreachable_server_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["hubble", "observe", "--server", "127.0.0.1:1", "--timeout", "1s"])
    assert result.exit_code == 1
    assert "127.0.0.1:1" in result.output and "Traceback" not in result.output


def test_relay_reports_unavailable_nodes(served) -> None:
    lab, address = served
    lab.hubble.relay.unavailable.add("k8s-w2")
    try:
        status = CliRunner().invoke(cli, ["hubble", "status", "--server", address])
        lines = status.stdout.splitlines()
        assert "Connected Nodes: 2/3" in lines
        assert lines[lines.index("Connected Nodes: 2/3") + 1:] == ["Unavailable Nodes: 1", "  - k8s-w2"]
        observed = CliRunner().invoke(cli, ["hubble", "observe", "--server", address, "--last", "1"])
        assert observed.exit_code == 0
        assert "1 nodes are unavailable: k8s-w2" in observed.stderr
        assert all("k8s-w2" not in line for line in observed.stdout.splitlines() if "[" in line)
    finally:
        lab.hubble.relay.unavailable.discard("k8s-w2")
