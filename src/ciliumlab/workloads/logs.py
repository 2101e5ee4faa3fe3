"""`kubectl logs`: what a container has written, as (time, line) pairs, oldest first.

Server images write their own logs (`Behaviour.logs`: a start-up banner, and one access-log line
per request for the servers that really log requests, e.g. nginx and json-server); the Cilium
agent container gets a few of the agent's real start-up lines plus one line per endpoint it
created. Everything else (client images, the control-plane pods) has an empty log. Logs are
derived from lab state, so they are deterministic under the virtual clock; call under the lab lock.
"""

from __future__ import annotations

from calendar import timegm
from time import gmtime, strftime, strptime
from typing import Any

from .images.base import LogContext

LogLines = list[tuple[float, str]]


def _epoch(ts: str | None, default: float) -> float:
    if not ts:
        return default
    try:
        return float(timegm(strptime(ts, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return default


def pod_logs(lab: Any, namespace: str, pod_name: str, container: str) -> LogLines:
    pod = lab.store.get("Pod", namespace, pod_name)
    if pod is None:
        return []
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    containers = spec.get("containers") or []
    index = next((i for i, c in enumerate(containers) if c.get("name") == container), None)
    if index is None:
        return []  # an init container: they write nothing here
    cstatus = next((c for c in status.get("containerStatuses") or [] if c.get("name") == container), {})
    running = (cstatus.get("state") or {}).get("running")
    if running is None:
        return []
    created = _epoch(pod["metadata"].get("creationTimestamp"), lab.clock.now())
    started = _epoch(running.get("startedAt"), created)
    spec_c = containers[index]
    node = spec.get("nodeName", "")
    if container == "cilium-agent" and "/cilium/cilium:" in f"{spec_c.get('image', '')}:":
        return agent_log(lab, node, started)
    endpoint = None if spec.get("hostNetwork") else lab.fabric.endpoints.get(status.get("podIP", ""))
    if endpoint is None or index >= len(endpoint.behaviours):
        return []
    ctx = LogContext(pod_name, namespace, container, node, started, spec.get("hostname") or pod_name,
                     [p.get("ip", "") for p in status.get("podIPs") or []])
    return endpoint.behaviours[index].logs(ctx)


def _logrus(ts: float, msg: str, subsys: str, **fields: str) -> tuple[float, str]:
    when = strftime("%Y-%m-%dT%H:%M:%S", gmtime(ts)) + f".{int(ts * 1e9) % 1_000_000_000:09d}Z"
    extra = "".join(f" {k}={v}" for k, v in fields.items())
    quoted = msg.replace("\\", "\\\\").replace('"', '\\"')
    return ts, f'time="{when}" level=info msg="{quoted}"{extra} subsys={subsys}'


def agent_log(lab: Any, node: str, started: float) -> LogLines:
    """cilium-agent 1.17 (logrus text format): the banner, the start-up milestones, and one
    `Successful endpoint creation` per endpoint on the node (all stamped no earlier than the
    container's start, so `--timestamps` stays ordered)."""
    cfg = lab.cluster_config
    version = cfg.cilium_version
    t = started
    lines = [
        _logrus(t, "Memory available for map entries (0.003% of 8294789120B): 20736972B", "config"),
        _logrus(t, "option bpf-ct-global-tcp-max set by dynamic sizing to 131072", "config"),
        _logrus(t, f"  --cluster-name='{cfg.cluster_name}'", "daemon"),
        _logrus(t, "     _ _ _", "daemon"),
        _logrus(t, " ___|_| |_|_ _ _____", "daemon"),
        _logrus(t, "|  _| | | | | |     |", "daemon"),
        _logrus(t, "|___|_|_|_|___|_|_|_|", "daemon"),
        _logrus(t, f"Cilium {version} go version go1.23.10 linux/amd64", "daemon"),
        _logrus(t, "Detected mounted BPF filesystem at /sys/fs/bpf", "bpf"),
        _logrus(t, "Reading old endpoints...", "daemon"),
        _logrus(t, "Initializing daemon", "daemon"),
        _logrus(t, "Daemon initialization completed", "daemon", bootstrapTime="1.216473091s"),
        _logrus(t, "Initializing Cilium API", "daemon"),
        _logrus(t, "Serving cilium health API at unix:///var/run/cilium/health.sock", "health-server"),
        _logrus(t, "Starting Hubble server", "hubble", address=":4244", tls="true"),
    ]
    records = [r for r in lab.cilium.endpoints.values() if r.node == node and r.kind == "pod"]
    for r in sorted(records, key=lambda r: (r.created, r.id)):
        lines.append(_logrus(max(r.created, t), "Successful endpoint creation", "daemon",
                             ciliumEndpointName=f"{r.namespace}/{r.pod_name}", datapathPolicyRevision="0",
                             desiredPolicyRevision="1", endpointID=str(r.id), identity=str(r.identity.id),
                             ipv4=r.ip, k8sPodName=f"{r.namespace}/{r.pod_name}"))
    return sorted(lines, key=lambda pair: pair[0])  # stable: the start-up lines keep their order
