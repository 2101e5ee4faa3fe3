"""Served lab figures (issue parts 1 and 7): `ciliumlab up` to ready, fresh and restored; `down`;
and the latency of an acknowledged write (HTTPS + token, the engine, SQLite commit with fsync).

Each `up` is the real command (a background `python -m ciliumlab serve` polled until `/readyz`
answers over TLS), on any free ports in a temporary state dir.
"""

from __future__ import annotations

import json
import os
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
            _cli("down", "--state-dir", str(state))
            for _ in range(ROUNDS):
                restored.append(_cli("up", "--state-dir", str(state)))
                down.append(_cli("down", "--state-dir", str(state)))
        finally:
            subprocess.run([sys.executable, "-m", "ciliumlab", "down", "--state-dir", str(state)],
                           capture_output=True, timeout=60)
    return {"up_fresh_s": statistics.median(fresh), "up_restored_s": statistics.median(restored),
            "down_s": statistics.median(down), "write_ms": write_ms}


if __name__ == "__main__":
    r = run()
    print(f"served: `ciliumlab up` to ready: fresh {r['up_fresh_s']:.2f} s, restored {r['up_restored_s']:.2f} s "
          f"(target <= 2 s); `down` {r['down_s']:.2f} s; acknowledged write (HTTPS, fsynced) {r['write_ms']:.1f} ms")
