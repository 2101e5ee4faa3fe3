"""Cost of Hubble's metrics handlers and flow exporter per flow.

Real flows (the traffic benchmark's workload, recorded once from the node rings) are replayed
through a node's outputs (`hubble.outputs.NodeOutputs`) in four configurations: nothing, every
metrics handler, every handler plus a static exporter writing every flow to disk, and the seed's
exporter settings (allowlist DROPPED/ERROR, kube-system denylist, field mask).
"""

from __future__ import annotations

import tempfile
import time

from ciliumlab import Lab
from ciliumlab.hubble.outputs import NodeOutputs
from ciliumlab.nodedisk import NodeDisks

from . import traffic

ALL_HANDLERS = ("dns:query drop:sourceContext=pod;destinationContext=pod tcp flow port-distribution icmp "
                "httpV2:exemplars=true;labelsContext=source_ip,source_namespace,source_workload,destination_ip,"
                "destination_namespace,destination_workload,traffic_direction policy flows-to-world kafka")
EXPORT = {"hubble-export-file-path": "/var/run/cilium/hubble/events.log", "hubble-export-file-max-size-mb": "10",
          "hubble-export-file-max-backups": "5"}
SEED_EXPORT = {**EXPORT, "hubble-export-allowlist": '{"verdict":["DROPPED","ERROR"]}',
               "hubble-export-denylist": '{"source_pod":["kube-system/"]},{"destination_pod":["kube-system/"]}',
               "hubble-export-fieldmask": "time source.namespace source.pod_name destination.namespace "
                                          "destination.pod_name l4 IP node_name is_reply verdict drop_reason_desc"}
CONFIGS = {
    "off": {},
    "all metrics handlers": {"hubble-metrics": ALL_HANDLERS},
    "all handlers + static exporter (every flow)": {"hubble-metrics": ALL_HANDLERS, **EXPORT},
    "all handlers + the seed's exporter filters": {"hubble-metrics": ALL_HANDLERS, **SEED_EXPORT},
}


class _Ring:
    """A stand-in observer: NodeOutputs only subscribes."""

    def subscribe(self, listener):
        self.listener = listener
        return lambda: None


def recorded_entries(seconds: float = 2.0) -> list:
    lab = Lab()
    for path in (traffic.DATA / "http-sw-app.yaml", traffic.DATA / "sw_l3_l4_l7_policy.yaml",
                 traffic.SEED / "webpod.yaml", traffic.SEED / "curl-pod.yaml"):
        lab.apply(path)
    for obs in lab.hubble.observers.values():
        obs.resize(200_000)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for pod, cmd in traffic.WORKLOAD:
            lab.exec(pod, cmd)
    return [entry for obs in lab.hubble.observers.values() for entry in obs.ring]


def run(repeat: int = 2) -> dict[str, float]:
    entries = recorded_entries()
    out: dict[str, float] = {"flows": len(entries)}
    for name, data in CONFIGS.items():
        with tempfile.TemporaryDirectory() as tmp:
            ring = _Ring()
            outputs = NodeOutputs("k8s-w1", ring, _Clock(), NodeDisks(tmp))
            outputs.configure(data)
            assert not outputs.errors, outputs.errors
            best = 0.0
            for _ in range(repeat):
                t0 = time.perf_counter()
                for entry in entries:
                    ring.listener(entry)
                outputs.flush()  # the deferred metrics accounting is part of the cost
                best = max(best, len(entries) / (time.perf_counter() - t0))
            outputs.close()
        out[name] = best
    return out


class _Clock:
    def now(self) -> float:
        return time.time()


def describe(r: dict[str, float]) -> str:
    off = r["off"]
    lines = [f"hubble outputs over {int(r['flows']):,} recorded flows:"]
    for name in CONFIGS:
        per_flow = 1e6 / r[name] - (1e6 / off if name != "off" else 0)
        extra = f", +{per_flow:.1f} µs/flow over off" if name != "off" else ""
        lines.append(f"  {name}: {r[name]:,.0f} flows/s{extra}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe(run()))
