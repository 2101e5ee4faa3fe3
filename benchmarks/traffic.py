"""End-to-end events/s for a mixed curl workload through the embedded lab.

Star Wars app with the L7 policy: tiefighter POSTs (proxied, allowed), tiefighter PUTs
(denied at L7), xwing POSTs (dropped at L3 with a 1 s connect timeout), and a curl-pod looping
over webpod. Every request runs the full path: shell → curl → DNS → LB → conntrack → policy →
proxy → app → monitor events on every node involved.
"""

from __future__ import annotations

import time
from pathlib import Path

from ciliumlab import Lab

DATA = Path(__file__).resolve().parents[1] / "src" / "ciliumlab" / "data" / "starwars"
SEED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "seed"

WORKLOAD = [
    ("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"),
    ("tiefighter", "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"),
    ("xwing", "curl -s --connect-timeout 1 -XPOST deathstar.default.svc.cluster.local/v1/request-landing"),
    ("curl-pod", "curl -s webpod | grep Hostname"),
]


def run(seconds: float = 3.0) -> dict[str, float]:
    lab = Lab()
    lab.apply(DATA / "http-sw-app.yaml")
    lab.apply(DATA / "sw_l3_l4_l7_policy.yaml")
    lab.apply(SEED / "webpod.yaml")
    lab.apply(SEED / "curl-pod.yaml")
    start_events = sum(bus.total for bus in lab.fabric.monitors.values())
    requests = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for pod, cmd in WORKLOAD:
            lab.exec(pod, cmd)
            requests += 1
    elapsed = time.perf_counter() - t0
    events = sum(bus.total for bus in lab.fabric.monitors.values()) - start_events
    return {"requests_per_s": requests / elapsed, "events_per_s": events / elapsed,
            "events_per_request": events / max(1, requests)}
