"""`GET /api/v1/nodes/{name}/proxy/metrics/cadvisor`: the kubelet's cAdvisor metrics, through
the API server's node proxy (what Cilium's `kubernetes-cadvisor` Prometheus job scrapes).

A small, valid Prometheus text exposition computed from the store: for every running
container of the node's pods (spec.nodeName) `container_cpu_usage_seconds_total` (a counter
growing since the container started, at a steady per-container rate: a fraction of its CPU
request, or a small rate derived from its name), `container_memory_working_set_bytes` (its
memory request, or a stable size from its name), the same two per pod cgroup (container=""),
and the node's `machine_cpu_cores` / `machine_memory_bytes` from its capacity. Label names
are cAdvisor's (container, cpu, id, image, name, namespace, pod).
"""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from ..kinds import for_kind
from .errors import not_found
from .tables import parse_time

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "machine_cpu_cores": ("gauge", "Number of logical CPU cores."),
    "machine_memory_bytes": ("gauge", "Amount of memory installed on the machine."),
}
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
           "Ti": 2**40}


async def cadvisor(request: web.Request) -> web.Response:
    from .app import CONTEXT  # app.py registers this handler: import late to avoid a cycle

    ctx = request.app[CONTEXT]
    name = request.match_info["name"]
    text = await ctx.gate.run(exposition, ctx.lab, name)
    if text is None:
        raise not_found(for_kind("Node", "v1"), name)
    return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def quantity(value, default: float = 0.0) -> float:
    """A Kubernetes quantity (`250m`, `4`, `2995276Ki`, `1Gi`) as a number."""
    m = _QUANTITY.match(str(value if value is not None else "").strip())
    if m is None or m.group(2) not in _SUFFIX:
        return default
    try:
        return float(m.group(1)) * _SUFFIX[m.group(2)]
    except ValueError:
        return default


def _stable(*parts: str) -> float:
    """A number in [0, 1) fixed by `parts` (same container, same figures every scrape)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    return repr(round(value, 6)) if value != int(value) else str(int(value))


def exposition(lab, node_name: str) -> str | None:
    """The node's cAdvisor exposition, or None when there is no such node."""
    node = lab.store.get("Node", None, node_name)
    if node is None:
        return None
    now = lab.clock.now()
    capacity = (node.get("status") or {}).get("capacity") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    series: dict[str, list[str]] = {name: [] for name in _HELP}
    machine = _labels(boot_id=info.get("bootID", ""), machine_id=info.get("machineID", ""),
                      system_uuid=info.get("systemUUID", ""))
    series["machine_cpu_cores"].append(f"machine_cpu_cores{machine} {_num(quantity(capacity.get('cpu'), 1))}")
    series["machine_memory_bytes"].append(f"machine_memory_bytes{machine} {_num(quantity(capacity.get('memory')))}")

    pods = [p for p in lab.store.list("Pod") if (p.get("spec") or {}).get("nodeName") == node_name
            and (p.get("status") or {}).get("phase") == "Running"]
    pods.sort(key=lambda p: (p["metadata"].get("namespace") or "", p["metadata"]["name"]))
    for pod in pods:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        ns, pod_name, uid = meta.get("namespace") or "", meta["name"], meta.get("uid") or ""
        qos = (status.get("qosClass") or "BestEffort").lower()
        pod_cgroup = (f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uid.replace('-', '_')}.slice"
                      if qos != "guaranteed" else f"/kubepods.slice/kubepods-pod{uid.replace('-', '_')}.slice")
        specs = {c.get("name"): c for c in spec.get("containers") or []}
        pod_cpu = pod_mem = 0.0
        for cs in status.get("containerStatuses") or []:
            running = (cs.get("state") or {}).get("running")
            if running is None:
                continue
            cname = cs.get("name") or ""
            started = parse_time(running.get("startedAt")) or now
            requests = ((specs.get(cname) or {}).get("resources") or {}).get("requests") or {}
            jitter = _stable(ns, pod_name, cname)
            rate = quantity(requests.get("cpu")) * (0.2 + 0.3 * jitter) or 0.002 + 0.02 * jitter
            cpu = rate * max(0.0, now - started)
            mem = quantity(requests.get("memory")) * (0.5 + 0.4 * jitter) or (8 + 120 * jitter) * 2**20
            cid = (cs.get("containerID") or "").partition("://")[2]
            labels = _labels(container=cname, cpu="total", id=f"{pod_cgroup}/cri-containerd-{cid}.scope",
                             image=cs.get("image") or (specs.get(cname) or {}).get("image", ""), name=cid,
                             namespace=ns, pod=pod_name)
            series["container_cpu_usage_seconds_total"].append(f"container_cpu_usage_seconds_total{labels} {_num(cpu)}")
            mem_labels = labels.replace(',cpu="total"', "")
            series["container_memory_working_set_bytes"].append(
                f"container_memory_working_set_bytes{mem_labels} {_num(float(int(mem)))}")
            pod_cpu += cpu
            pod_mem += int(mem)
        pod_labels = _labels(container="", id=pod_cgroup, image="", name="", namespace=ns, pod=pod_name)
        series["container_cpu_usage_seconds_total"].append(
            "container_cpu_usage_seconds_total" + pod_labels.replace('container="",', 'container="",cpu="total",')
            + f" {_num(pod_cpu)}")
        series["container_memory_working_set_bytes"].append(
            f"container_memory_working_set_bytes{pod_labels} {_num(pod_mem)}")

    out: list[str] = []
    for name, (mtype, help_text) in _HELP.items():
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {mtype}")
        out.extend(series[name])
    return "\n".join(out) + "\n"
