"""Hubble figures (issue 3): input-file throughput, ring insert rate, GetFlows streaming, ring memory.

The flows are the lab's own: the Star Wars app under the L7 policy with tiefighter, xwing and
curl-pod traffic, so the corpus has the real mix of trace, sock, policy-verdict, drop, L7 and
DNS flows.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from ciliumlab import Lab
from ciliumlab.hubble.cli import InputFileSource, parse_observe, run_observe
from ciliumlab.hubble.types import FlowsRequest

DATA = Path(__file__).resolve().parents[1] / "src" / "ciliumlab" / "data" / "starwars"
RING = 65535


def traffic_lab(capacity: int = RING) -> Lab:
    lab = Lab()
    lab.apply(DATA / "http-sw-app.yaml")
    lab.apply(DATA / "sw_l3_l4_l7_policy.yaml")
    for observer in lab.hubble.observers.values():
        observer.resize(capacity)
    return lab


def drive(lab: Lab, requests: int) -> None:
    for i in range(requests):
        pod = ("tiefighter", "xwing")[i % 2]
        lab.exec(pod, "curl -s --connect-timeout 1 -XPOST deathstar.default.svc.cluster.local/v1/request-landing")


def fill(lab: Lab) -> float:
    """Fill all three rings; returns seconds."""
    t0 = time.perf_counter()
    while min(len(o.ring) for o in lab.hubble.observers.values()) < RING:
        drive(lab, 20)
    return time.perf_counter() - t0


def ring_memory() -> float:
    tracemalloc.start()
    lab = traffic_lab()
    base = tracemalloc.get_traced_memory()[0]
    fill(lab)
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used / 1e6


def ring_insert_rate(lab: Lab, n: int = 200_000) -> float:
    observer = lab.hubble.observers["k8s-w1"]
    events = [e.event for e in list(observer.ring)[-1000:]]
    enrich = lab.hubble.enrich
    t0 = time.perf_counter()
    for i in range(n):
        event = events[i % len(events)]
        observer.add(event, enrich("k8s-w1", event))
    return n / (time.perf_counter() - t0)


def streaming_rate(lab: Lab) -> float:
    t0 = time.perf_counter()
    n = sum(1 for r in lab.hubble.relay.get_flows(FlowsRequest(number=RING)) if "flow" in r)
    return n / (time.perf_counter() - t0)


def grpc_streaming_rate(lab: Lab) -> float:
    """GetFlows over gRPC (relay server + Python client, loopback), full flows."""
    from ciliumlab.hubble.grpc import serve_observer
    from ciliumlab.hubble.grpc.client import connect

    server = serve_observer(lab.hubble.relay, "127.0.0.1:0", relay=True)
    try:
        client = connect(f"127.0.0.1:{server.port}")
        t0 = time.perf_counter()
        n = sum(1 for r in client.get_flows(FlowsRequest(number=20_000)) if "flow" in r)
        return n / (time.perf_counter() - t0)
    finally:
        server.stop(0)


def corpus(lab: Lab, path: str, lines: int) -> None:
    sample = [json.dumps(r, separators=(",", ":")) for r in lab.hubble.relay.get_flows(FlowsRequest(number=3000))
              if "flow" in r]
    with open(path, "w") as fh:
        for i in range(lines):
            fh.write(sample[i % len(sample)])
            fh.write("\n")


def input_file_rate(path: str, lines: int) -> tuple[float, int]:
    """`hubble observe --input-file F --protocol tcp` (keeps ~14% of a lab corpus, printed compact)."""
    opts = parse_observe(["--input-file", path, "--protocol", "tcp"], now=_now())
    out = io.StringIO()
    t0 = time.perf_counter()
    run_observe(opts, InputFileSource(path), out, io.StringIO())
    elapsed = time.perf_counter() - t0
    return lines / elapsed, out.getvalue().count("\n")


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def run(input_lines: int = 1_000_000) -> dict[str, float]:
    results: dict[str, float] = {"ring_memory_mb": ring_memory()}
    lab = traffic_lab()
    fill(lab)
    results["ring_insert_per_s"] = ring_insert_rate(lab)
    results["getflows_per_s"] = streaming_rate(lab)
    results["grpc_getflows_per_s"] = grpc_streaming_rate(lab)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "flows.json")
        corpus(lab, path, input_lines)
        rate, kept = input_file_rate(path, input_lines)
    results["input_file_per_s"] = rate
    results["input_file_lines"] = input_lines
    results["input_file_kept"] = kept
    return results
