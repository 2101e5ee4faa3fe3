"""Shared pieces for the exporter tests: real lab flows, a settable clock, the seed's config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ciliumlab.hubble.flow import timestamp

SEED_ALLOWLIST = '{"verdict":["DROPPED","ERROR"]}'
SEED_DENYLIST = '{"source_pod":["kube-system/"]},{"destination_pod":["kube-system/"]}'
SEED_FIELDMASK = ("time source.namespace source.pod_name destination.namespace destination.pod_name "
                  "l4 IP node_name is_reply verdict drop_reason_desc")
EVENTS_LOG = "/var/run/cilium/hubble/events.log"


def seed_config(**overrides: str) -> dict[str, str]:
    """cilium-config as the seed's Helm values render it (hubble.export.static)."""
    data = {
        "hubble-export-file-path": EVENTS_LOG,
        "hubble-export-file-max-size-mb": "10",
        "hubble-export-file-max-backups": "5",
        "hubble-export-allowlist": SEED_ALLOWLIST,
        "hubble-export-denylist": SEED_DENYLIST,
        "hubble-export-fieldmask": SEED_FIELDMASK,
    }
    data.update(overrides)
    return data


class FakeClock:
    def __init__(self, t: float = 1_764_144_000.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def lab_responses() -> list[dict]:
    """Real GetFlows responses: the star wars demo with the L3/L4 policy, xwing denied."""
    from ciliumlab import Lab
    from ciliumlab.hubble.types import FlowsRequest
    from tests.conftest import shared_fixture

    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    lab.exec("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing --connect-timeout 2")
    responses = [r for r in lab.hubble.relay.get_flows(FlowsRequest(number=0)) if "flow" in r]
    assert any(r["flow"]["verdict"] == "DROPPED" for r in responses)
    assert any(r["flow"].get("source", {}).get("namespace") == "kube-system" for r in responses)
    return responses


@pytest.fixture
def responses(lab_responses) -> list[dict]:
    return [json.loads(json.dumps(r)) for r in lab_responses]  # tests may not alter the shared ones


def restamp(response: dict, t: float, n: int) -> dict:
    """A copy of a response as if seen at `t`, with its own uuid (flows keep their key order)."""
    ts = timestamp(t)
    flow = {**response["flow"], "time": ts, "uuid": f"00000000-0000-4000-8000-{n:012d}"}
    return {"flow": flow, "node_name": response["node_name"], "time": ts}


def read_lines(path: Path) -> list[dict]:
    text = path.read_text()
    assert text == "" or text.endswith("\n"), f"{path} ends with a partial line"
    return [json.loads(line) for line in text.splitlines()]


def node_file(root: Path, node_path: str = EVENTS_LOG) -> Path:
    return root / node_path.lstrip("/")
