"""A Star Wars lab whose agents and operator export metrics from the start, and the scenario of
the metrics tests: the app, the L3/L4 policy, one xwing landing attempt (dropped)."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from ciliumlab.cilium.metrics import AgentMetrics, OperatorMetrics
from tests.conftest import shared_fixture

SW_APP = shared_fixture("cilium", "http-sw-app.yaml")
L3_L4 = shared_fixture("cilium", "sw_l3_l4_policy.yaml")
L7 = shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml")
XWING_LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing --connect-timeout 2"
TIEFIGHTER_LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
TIEFIGHTER_EXHAUST = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"


class MetricsLab:
    """A lab plus its own AgentMetrics per node and an OperatorMetrics, made before any traffic."""

    def __init__(self) -> None:
        self.lab = Lab()
        self.agents = {node: AgentMetrics(self.lab, node) for node in self.lab.nodes}
        self.operator = OperatorMetrics(self.lab)

    def scrape(self, node: str) -> str:
        return self.agents[node].expose()[0].decode()

    def close(self) -> None:
        for agent in self.agents.values():
            agent.close()
        self.operator.close()


def agent_pod(lab: Lab, node: str) -> str:
    pods = [p for p in lab.list("pod", "kube-system", "k8s-app=cilium") if p["spec"].get("nodeName") == node]
    assert len(pods) == 1
    return pods[0]["metadata"]["name"]


def dbg(lab: Lab, node: str, command: str) -> str:
    """`kubectl -n kube-system exec <agent pod> -c cilium-agent -- <command>` on `node`."""
    result = lab.exec(agent_pod(lab, node), command, namespace="kube-system", container="cilium-agent")
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def mlab():
    m = MetricsLab()
    yield m
    m.close()


@pytest.fixture
def sw_mlab(mlab):
    """The brief's scenario: app, L3/L4 policy, one xwing landing (policy-dropped SYNs)."""
    mlab.lab.apply(SW_APP)
    mlab.lab.apply(L3_L4)
    result = mlab.lab.exec("xwing", XWING_LANDING)
    assert result.exit_code == 28  # curl: connection timed out
    return mlab
