"""A lab with one nginx pod on k8s-w1 (so k8s-w1 has an lxc device and a local endpoint), and a
node shell helper, for the node-shell tests."""

from __future__ import annotations

import pytest

from ciliumlab import Lab

WEB_POD = """
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  nodeName: k8s-w1
  containers: [{name: web, image: nginx}]
"""


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab()
    lab.apply(WEB_POD)
    return lab


def run(lab: Lab, node: str, cmd: str) -> str:
    """`cmd` in `node`'s shell; it must succeed."""
    r = lab.node_exec(node, cmd)
    assert r.exit_code == 0, r.stderr
    return r.stdout
