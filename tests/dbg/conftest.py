"""An embedded Star Wars lab for the cilium-dbg tests, and a helper to run `cilium-dbg` in the
agent pod of a node the way a user does (`kubectl exec -n kube-system -c cilium-agent ...`)."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from tests.conftest import shared_fixture

SW_APP = shared_fixture("cilium", "http-sw-app.yaml")
L3_L4 = shared_fixture("cilium", "sw_l3_l4_policy.yaml")
L7 = shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml")


def agent_pod(lab: Lab, node: str) -> str:
    pods = [p for p in lab.list("pod", "kube-system", "k8s-app=cilium") if p["spec"].get("nodeName") == node]
    assert len(pods) == 1
    return pods[0]["metadata"]["name"]


def dbg(lab: Lab, node: str, command: str, timeout: float | None = None):
    return lab.exec(agent_pod(lab, node), command, namespace="kube-system", container="cilium-agent",
                    timeout=timeout)


@pytest.fixture
def sw_lab() -> Lab:
    lab = Lab()
    lab.apply(SW_APP)
    return lab
