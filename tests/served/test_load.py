"""Load: 50 real kubectl clients at once against one `ciliumlab up` (HTTPS, token, SQLite commits).

Each client loops for `DURATION` seconds over `get pods -A`, `apply` of its own ConfigMap (a
new value every time, so every apply is a committed write) and `exec tiefighter -- curl` to the
deathstar (the whole datapath under the lab lock). Every command must succeed with the output a
real cluster gives. Marked `load`; it runs in the default suite (≈ 25 s).
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import shared_fixture
from tests.served.conftest import needs_kubectl
from tests.served.served import ServedLab

CLIENTS = 50
DURATION = 20.0
LANDING = "deathstar.default.svc.cluster.local/v1/request-landing"

pytestmark = [pytest.mark.load, needs_kubectl]


def _configmap(client: int, n: int) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: load-{client}\n  namespace: default\n"
            f"data:\n  count: \"{n}\"\n")


def test_fifty_kubectl_clients_for_twenty_seconds_see_no_errors(served: ServedLab, capsys) -> None:
    served.kubectl_ok("apply", "-f", str(shared_fixture("cilium", "http-sw-app.yaml")))
    served.kubectl_ok("wait", "--for=condition=Ready", "pod/tiefighter", "--timeout=30s")
    errors: list[str] = []
    timings: dict[str, list[float]] = {"get": [], "apply": [], "exec": []}
    guard = threading.Lock()
    deadline = time.monotonic() + DURATION

    def client(i: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            op = ("get", "apply", "exec")[(i + n) % 3]
            t0 = time.monotonic()
            if op == "get":
                res = served.kubectl("get", "pods", "-A", timeout=60)
                ok = res.rc == 0 and "tiefighter" in res.out and "cilium-" in res.out
            elif op == "apply":
                res = served.kubectl("apply", "-f", "-", stdin=_configmap(i, n), timeout=60)
                ok = res.rc == 0 and res.out in (f"configmap/load-{i} created\n", f"configmap/load-{i} configured\n")
            else:
                res = served.kubectl("exec", "tiefighter", "--", "curl", "-s", "-XPOST", LANDING, timeout=60)
                ok = (res.rc, res.out, res.err) == (0, "Ship landed\n", "")
            took = time.monotonic() - t0
            with guard:
                timings[op].append(took)
                if not ok:
                    errors.append(f"client {i} {op}: rc={res.rc} out={res.out[:200]!r} err={res.err[:300]!r}")
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(DURATION + 90)
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    total = sum(len(v) for v in timings.values())
    assert all(timings.values())
    # every client's last write is what the API serves
    cm = served.get_json("configmap", "load-0")
    assert cm["data"]["count"].isdigit()
    summary = ", ".join(f"{op} {len(v)} (p50 {statistics.median(v) * 1000:.0f} ms, "
                        f"p95 {statistics.quantiles(v, n=20)[-1] * 1000:.0f} ms)" for op, v in timings.items())
    with capsys.disabled():
        print(f"\nload: {CLIENTS} kubectl clients, {elapsed:.1f} s: {total} commands, 0 errors "
              f"({total / elapsed:.1f}/s); {summary}")
    Path(served.workdir / "load.txt").write_text(summary)
