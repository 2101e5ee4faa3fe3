"""Served lab figures (issue parts 1 and 7): `ciliumlab up` to ready, fresh and restored; `down`;
the latency of an acknowledged write (HTTPS + token, the engine, SQLite commit with fsync); and
`kubectl get pods -A` latency (the real kubectl, warm discovery cache) next to the server's own
part of it (the same Table request from a kept-alive HTTPS connection).

Each `up` is the real command (a background `python -m ciliumlab serve` polled until `/readyz`
answers over TLS), on any free ports in a temporary state dir.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ANY_PORTS = ("--api-port", "0", "--relay-port", "0", "--hubble-ports", "0,0,0")
ROUNDS = 2
WRITES = 30
GETS = 30
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def _cli(*args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ciliumlab", *args], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"ciliumlab {' '.join(args)}: {proc.stderr}")
    return elapsed


def _write_latency(state: Path) -> float:
    """Median ms to create one ConfigMap (the response is sent after its commit is fsynced)."""
    info = json.loads((state / "server.json").read_text())
    token = (state / "token").read_text().strip()
    ctx = ssl.create_default_context(cafile=str(state / "pki" / "ca.crt"))
    url = f"{info['apiserver']}/api/v1/namespaces/default/configmaps"
    times = []
    for i in range(WRITES):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"bench-{i}"},
                           "data": {"i": str(i)}}).encode()
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            resp.read()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _pcts(times: list[float]) -> tuple[float, float]:
    """(p50, p95) in ms."""
    return statistics.median(times) * 1000, statistics.quantiles(times, n=20)[-1] * 1000


def _get_pods_latency(state: Path) -> dict:
    """`kubectl get pods -A` end to end, and the server-side latency of that request."""
    out: dict = {}
    if os.path.exists(KUBECTL):
        env = {**os.environ, "KUBECONFIG": str(state / "kubeconfig"), "HOME": str(state)}
        cmd = [KUBECTL, "--cache-dir", str(state / "kube-cache"), "get", "pods", "-A"]
        subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=60)  # warm the discovery cache
        times = []
        for _ in range(GETS):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=60)
            times.append(time.perf_counter() - t0)
        out["kubectl_p50_ms"], out["kubectl_p95_ms"] = _pcts(times)
        times = []
        for _ in range(GETS):
            t0 = time.perf_counter()
            subprocess.run([KUBECTL, "version", "--client"], capture_output=True, check=True, timeout=60)
            times.append(time.perf_counter() - t0)
        out["kubectl_start_p50_ms"], _ = _pcts(times)
    info = json.loads((state / "server.json").read_text())
    token = (state / "token").read_text().strip()
    ctx = ssl.create_default_context(cafile=str(state / "pki" / "ca.crt"))
    host, port = info["apiserver"].removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Accept": TABLE}
    times = []
    try:
        for i in range(GETS + 1):
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/pods?limit=500", headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET /api/v1/pods: {resp.status}")
            if i:  # the first request pays the TLS handshake
                times.append(time.perf_counter() - t0)
    finally:
        conn.close()
    out["server_p50_ms"], out["server_p95_ms"] = _pcts(times)
    return out


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="ciliumlab-bench-") as tmp:
        state = Path(tmp) / "state"
        fresh, restored, down = [], [], []
        try:
            for _ in range(ROUNDS):
                for path in state.glob("store.db*") if state.exists() else ():
                    os.unlink(path)
                fresh.append(_cli("up", "--state-dir", str(state), *ANY_PORTS))
                down.append(_cli("down", "--state-dir", str(state)))
            _cli("up", "--state-dir", str(state), *ANY_PORTS)
            write_ms = _write_latency(state)
            gets = _get_pods_latency(state)
            _cli("down", "--state-dir", str(state))
            for _ in range(ROUNDS):
                restored.append(_cli("up", "--state-dir", str(state)))
                down.append(_cli("down", "--state-dir", str(state)))
        finally:
            subprocess.run([sys.executable, "-m", "ciliumlab", "down", "--state-dir", str(state)],
                           capture_output=True, timeout=60)
    return {"up_fresh_s": statistics.median(fresh), "up_restored_s": statistics.median(restored),
            "down_s": statistics.median(down), "write_ms": write_ms, **gets}


def describe_gets(r: dict) -> str:
    server = f"server side (same Table request, kept-alive HTTPS): p50 {r['server_p50_ms']:.1f} ms, " \
             f"p95 {r['server_p95_ms']:.1f} ms"
    if "kubectl_p50_ms" not in r:
        return f"served: `kubectl get pods -A`: kubectl not installed; {server}"
    return (f"served: `kubectl get pods -A` over {GETS} runs: p50 {r['kubectl_p50_ms']:.0f} ms, "
            f"p95 {r['kubectl_p95_ms']:.0f} ms (target p50 <= 50 ms; `kubectl version --client` alone "
            f"p50 {r['kubectl_start_p50_ms']:.0f} ms); {server}")


if __name__ == "__main__":
    r = run()
    print(f"served: `ciliumlab up` to ready: fresh {r['up_fresh_s']:.2f} s, restored {r['up_restored_s']:.2f} s "
          f"(target <= 2 s); `down` {r['down_s']:.2f} s; acknowledged write (HTTPS, fsynced) {r['write_ms']:.1f} ms")
    print(describe_gets(r))
