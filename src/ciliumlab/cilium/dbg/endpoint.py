"""`cilium-dbg endpoint list|get|log|config` (spec metrics-export.md e.2)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from .common import Dbg, EndpointView, UsageError, endpoints, find_endpoint, go_json, policy_columns
from .tabwriter import TabWriter

OPTIONS = ("ConntrackAccounting", "ConntrackLocal", "Debug", "DebugLB", "DebugPolicy", "DropNotification",
           "MonitorAggregationLevel", "PolicyAuditMode", "PolicyVerdictNotification", "SourceIPVerification",
           "TraceNotification")
DEFAULT_OPTIONS = {"ConntrackAccounting": "Disabled", "ConntrackLocal": "Disabled", "Debug": "Disabled",
                   "DebugLB": "Disabled", "DebugPolicy": "Disabled", "DropNotification": "Enabled",
                   "MonitorAggregationLevel": "Medium", "PolicyAuditMode": "Disabled",
                   "PolicyVerdictNotification": "Enabled", "SourceIPVerification": "Enabled",
                   "TraceNotification": "Enabled"}


def run(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        dbg.write(HELP)
        return 0
    sub, rest = args[0], args[1:]
    if sub in ("list", "ls"):
        return _list(dbg, rest)
    if sub in ("get", "inspect"):
        return _get(dbg, rest)
    if sub == "log":
        return _log(dbg, rest)
    if sub == "config":
        return _config(dbg, rest)
    raise UsageError(f'unknown command "{sub}" for "{dbg.name} endpoint"', "endpoint")


def _output_flag(args: list[str]) -> tuple[str | None, list[str]]:
    fmt, rest, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a in ("-o", "--output") and i + 1 < len(args):
            fmt, i = args[i + 1], i + 2
            continue
        if a.startswith("-o") and len(a) > 2:
            fmt = a[2:].lstrip("=")
        elif a.startswith("--output="):
            fmt = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    if fmt is not None and fmt not in ("json", "yaml") and not fmt.startswith("jsonpath"):
        raise UsageError(f"unable to parse output format: {fmt}")
    return fmt, rest


def _list(dbg: Dbg, args: list[str]) -> int:
    fmt, rest = _output_flag(args)
    no_headers = "--no-headers" in rest
    eps = endpoints(dbg)
    if fmt is not None:
        _print_structured(dbg, [model(dbg, ep) for ep in eps], fmt)
        return 0
    audit = dbg.lab.policy_config.audit_mode
    w = TabWriter(dbg.out)
    if not no_headers:
        w.write("ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n")
        w.write("\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n")
    for ep in eps:
        ingress, egress = policy_columns(ep, audit)
        for i, label in enumerate(ep.labels or ["no labels"]):
            if i == 0:
                w.write(f"{ep.id}\t{ingress}\t{egress}\t{ep.identity}\t{label}\t\t{ep.ipv4}\tready\t\n")
            else:
                w.write(f"\t\t\t\t{label}\t\t\t\t\n")
    w.flush()
    return 0


def _print_structured(dbg: Dbg, value, fmt: str) -> None:
    if fmt == "yaml":
        import yaml

        dbg.write(yaml.safe_dump(value, sort_keys=False, default_flow_style=False))
        return
    if fmt.startswith("jsonpath"):
        dbg.write(go_json(value) + "\n")
        return
    dbg.write(go_json(value) + "\n")


def _get(dbg: Dbg, args: list[str]) -> int:
    fmt, rest = _output_flag(args)
    if not rest:
        raise UsageError("missing endpoint id argument")
    ep = find_endpoint(dbg, rest[0])
    _print_structured(dbg, [model(dbg, ep)], fmt or "json")
    return 0


def _log(dbg: Dbg, args: list[str]) -> int:
    fmt, rest = _output_flag(args)
    if not rest:
        raise UsageError("missing endpoint id argument")
    ep = find_endpoint(dbg, rest[0])
    entries = _log_entries(dbg, ep)
    if fmt is not None:
        _print_structured(dbg, entries, fmt)
        return 0
    w = TabWriter(dbg.out)
    w.write("Timestamp\tStatus\tState\tMessage\n")
    for e in entries:
        w.write(f"{e['timestamp']}\t{e['code']}\t{e['state']}\t{e['message']}\n")
    w.flush()
    return 0


def _config(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError("missing endpoint id argument")
    ep = find_endpoint(dbg, args[0])
    options = dbg.cache.setdefault("options", {})
    key = (dbg.node, ep.id)
    current = dict(DEFAULT_OPTIONS)
    stored = ep.record.options if ep.record is not None else options.setdefault(key, {})
    current.update(stored)
    changes = args[1:]
    if not changes:
        w = TabWriter(dbg.out)
        for name in OPTIONS:
            w.write(f"{name}\t{current[name]}\n")
        w.flush()
        return 0
    for change in changes:
        name, _, value = change.partition("=")
        match = next((o for o in OPTIONS if o.lower() == name.lower()), None)
        if match is None:
            dbg.err.write(f"Error: Unable to parse option {change}: unknown option: {name}\n")
            return 1
        value = {"true": "Enabled", "enabled": "Enabled", "false": "Disabled", "disabled": "Disabled"}.get(
            value.lower(), value)
        stored[match] = value
    if ep.record is not None:
        ep.record.log.append("Successfully regenerated endpoint program (Reason: endpoint was updated via API)")
    dbg.write(f"Endpoint {ep.id} configuration updated successfully\n")
    return 0


def _log_entries(dbg: Dbg, ep: EndpointView) -> list[dict]:
    when = _rfc3339(ep.created or dbg.lab.clock.now())
    return [{"code": "OK", "message": m, "state": "ready", "timestamp": when} for m in ep.log]


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def model(dbg: Dbg, ep: EndpointView) -> dict:
    """The API's `Endpoint` model (the subset a user reads in `endpoint get`)."""
    lab, agent = dbg.lab, dbg.agent
    options = dict(DEFAULT_OPTIONS)
    if ep.record is not None:
        options.update(ep.record.options)
    audit = lab.policy_config.audit_mode
    enabled = ep.policy_enabled
    if audit and enabled != "none":
        enabled = "audit-" + enabled
    identity = {"id": ep.identity, "labels": list(ep.labels),
                "labelsSHA256": hashlib.sha256("".join(f"{label};" for label in ep.labels).encode()).hexdigest()}
    networking = {"addressing": [{"ipv4": ep.ipv4}] if ep.ipv4 else [],
                  "host-addressing": {"ipv4": {"address": agent.router_ip, "enabled": True}},
                  "host-mac": _host_mac(dbg.node), "interface-index": ep.ifindex,
                  "interface-name": ep.ifname, "mac": ep.mac}
    realized = {"allowed-egress-identities": None, "allowed-ingress-identities": None,
                "build": lab.policy.revision, "cidr-policy": {"egress": [], "ingress": []},
                "id": ep.identity, "l4": {"egress": [], "ingress": []},
                "policy-enabled": enabled, "policy-revision": lab.policy.revision}
    status: dict = {
        "controllers": [{"configuration": {"error-retry": True, "interval": "5m0s"},
                         "name": f"resolve-identity-{ep.id}", "status": {"success-count": 1}, "uuid": ""}],
        "external-identifiers": {},
        "health": {"bpf": "OK", "connected": True, "overallHealth": "OK", "policy": "OK"},
        "identity": identity,
        "labels": {"derived": [], "disabled": [], "realized": {}, "security-relevant": list(ep.labels)},
        "log": _log_entries(dbg, ep),
        "namedPorts": [],
        "networking": networking,
        "policy": {"proxy-statistics": [], "realized": realized, "spec": dict(realized)},
        "realized": {"label-configuration": {}, "options": options},
        "state": "ready",
    }
    if ep.kind == "pod":
        container = hashlib.sha256(f"container/{ep.pod_uid}".encode()).hexdigest()
        status["external-identifiers"] = {"cni-attachment-id": f"{container}:eth0", "container-id": container,
                                          "container-name": "eth0", "k8s-namespace": ep.namespace,
                                          "k8s-pod-name": ep.pod_name, "pod-name": f"{ep.namespace}/{ep.pod_name}"}
        pod = lab.store.get("Pod", ep.namespace, ep.pod_name) or {}
        status["namedPorts"] = [{"name": p["name"], "port": p["containerPort"], "protocol": p.get("protocol", "TCP")}
                                for c in (pod.get("spec") or {}).get("containers", [])
                                for p in c.get("ports") or [] if p.get("name")]
    elif ep.kind == "health":
        status["external-identifiers"] = {"container-name": "cilium-health"}
    return {"id": ep.id, "spec": {"label-configuration": {}, "options": options}, "status": status}


HELP = """Manage endpoints

Usage:
  cilium-dbg endpoint [command]

Aliases:
  endpoint, ep

Available Commands:
  config      View & modify endpoint configuration
  get         Display endpoint information
  list        List all endpoints
  log         View endpoint status log

Use "cilium-dbg endpoint [command] --help" for more information about a command.
"""


def _host_mac(node: str) -> str:
    digest = hashlib.sha1(f"cilium_host/{node}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02 | (digest[0] & 0xFC), *digest[1:6]))
