"""The API server's node-proxy cAdvisor endpoint (the kubernetes-cadvisor job's target)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ciliumlab.k8s.apiserver.app import make_app
from ciliumlab.k8s.apiserver.cadvisor import cadvisor, exposition, quantity

ROUTE = "/api/v1/nodes/{name}/proxy/metrics/cadvisor"


def test_quantity():
    assert quantity("4") == 4 and quantity("250m") == 0.25
    assert quantity("2995276Ki") == 2995276 * 1024 and quantity("1Gi") == 2**30
    assert quantity("bogus", 7) == 7 and quantity(None) == 0


def test_exposition_lists_the_nodes_running_containers(mlab):
    text = exposition(mlab, "k8s-w1")
    running = [p for p in mlab.store.list("Pod") if p["spec"].get("nodeName") == "k8s-w1"
               and p["status"].get("phase") == "Running"]
    assert running
    for pod in running:
        for cs in pod["status"].get("containerStatuses") or []:
            if "running" in (cs.get("state") or {}):
                pattern = (rf'container_cpu_usage_seconds_total\{{container="{re.escape(cs["name"])}",cpu="total",'
                           rf'.*namespace="{pod["metadata"]["namespace"]}",pod="{pod["metadata"]["name"]}"\}} [0-9.e+]+')
                assert re.search(pattern, text), pattern
                assert f'pod="{pod["metadata"]["name"]}"' in text
    other = [p["metadata"]["name"] for p in mlab.store.list("Pod") if p["spec"].get("nodeName") == "k8s-ctr"]
    assert not any(f'pod="{name}"' in text for name in other)
    assert "# TYPE container_cpu_usage_seconds_total counter" in text
    assert "# TYPE container_memory_working_set_bytes gauge" in text
    assert re.search(r"^machine_cpu_cores\{.*\} \d+$", text, re.M)
    assert exposition(mlab, "no-such-node") is None


def test_exposition_is_valid_for_promtool(mlab, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    result = subprocess.run([promtool, "check", "metrics"], input=exposition(mlab, "k8s-ctr"),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_handler_through_the_api_app():
    from ciliumlab import Lab

    lab = Lab()

    async def run():
        app = make_app(lab, token="secret")
        app.router.add_get(ROUTE, cadvisor)  # as app.py registers it
        async with TestClient(TestServer(app)) as client:
            auth = {"Authorization": "Bearer secret"}
            ok = await client.get("/api/v1/nodes/k8s-w2/proxy/metrics/cadvisor", headers=auth)
            missing = await client.get("/api/v1/nodes/nope/proxy/metrics/cadvisor", headers=auth)
            anonymous = await client.get("/api/v1/nodes/k8s-w2/proxy/metrics/cadvisor")
            return (ok.status, ok.headers["Content-Type"], await ok.text(), missing.status, await missing.json(),
                    anonymous.status)

    status, ctype, text, missing, body, anonymous = asyncio.run(run())
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    assert "machine_cpu_cores" in text and 'namespace="kube-system"' in text
    assert missing == 404 and body["reason"] == "NotFound" and body["message"] == 'nodes "nope" not found'
    assert anonymous == 401
