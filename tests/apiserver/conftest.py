"""A wall-clock lab served to the real kubectl, shared by the exec and port-forward tests.

The served lab runs on the wall clock (`sleep 1` really sleeps), like `ciliumlab up`. The star
wars app, the seed's curl-pod and webpod are applied once per session; tests that apply a
policy remove it again.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ciliumlab import Lab
from tests.apiserver.kube import KUBECTL, Kubectl, LabServer
from tests.conftest import shared_fixture

APPS = [shared_fixture("cilium", "http-sw-app.yaml"), shared_fixture("seed", "curl-pod.yaml"),
        shared_fixture("seed", "webpod.yaml")]


@pytest.fixture(scope="session")
def stream_server():
    if not Path(KUBECTL).exists():
        pytest.skip("kubectl is not installed")
    srv = LabServer(Lab(clock="wall"))
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def skubectl(stream_server: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    k = Kubectl(stream_server, tmp_path_factory.mktemp("kubectl-streams"))
    for path in APPS:
        k.ok("apply", "-f", str(path))
    return k


def exec_threads() -> list[threading.Thread]:
    """The worker threads of running served execs (exec_stream names them `exec <argv0>`)."""
    return [t for t in threading.enumerate() if t.name.startswith("exec ") and t.is_alive()]


def wait_until(cond, timeout: float = 5.0, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()
