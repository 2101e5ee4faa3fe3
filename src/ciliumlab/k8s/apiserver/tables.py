"""Server-side `Table` output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).

kubectl prints whatever columns the server sends (hiding `priority > 0` ones unless `-o wide`),
so this module *is* `kubectl get`'s output format. The per-kind cells are ports of
`kubernetes/pkg/printers/internalversion/printers.go`; custom resources use their CRD's
`additionalPrinterColumns` (JSONPath, first result, converted by column type) as the
apiextensions Table convertor does. Ages are computed here, from the lab clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .crds import PRINTER_COLUMNS

Obj = dict[str, Any]
Cell = str | int | float | bool | None

NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name automatically. Name "
             "is primarily intended for creation idempotence and configuration definition. Cannot be updated. "
             "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was created. It is "
            "not guaranteed to be set in happens-before order across separate operations. Clients may not set "
            "this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. "
            "Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
            "api-conventions.md#metadata")


# -- durations ------------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """apimachinery `duration.HumanDuration`, line by line."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rem = s % 60
        return f"{minutes}m" if rem == 0 else f"{minutes}m{rem}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rem = minutes % 60
        return f"{hours}h" if rem == 0 else f"{hours}h{rem}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rem = hours % 24
        return f"{hours // 24}d" if rem == 0 else f"{hours // 24}d{rem}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_time(ts: str | None) -> float | None:
    if not ts:
        return None
    try:
        return datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def since(ts: str | None, now: float) -> str:
    """`translateTimestampSince`: `<unknown>` for a missing time."""
    t = parse_time(ts)
    return "<unknown>" if t is None else human_duration(now - t)


# -- columns --------------------------------------------------------------------------------
def col(name: str, type_: str = "string", description: str = "", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": description or name, "priority": priority}


NAME = col("Name", fmt="name", description=NAME_DESC)
AGE = col("Age", description=AGE_DESC)
_CONTAINERS = col("Containers", description="Names of each container in the template.", priority=1)
_IMAGES = col("Images", description="Images referenced by each container in the template.", priority=1)
_SELECTOR = col("Selector", description="Label selector", priority=1)


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _age(obj: Obj, now: float) -> str:
    return since(_meta(obj).get("creationTimestamp"), now)


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def selector_string(sel: Obj | None) -> str:
    """`metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key."""
    if not sel:
        return ""
    reqs: list[tuple[str, str]] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append((k, f"{k}={v}"))
    for expr in sel.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), sorted(expr.get("values") or [])
        text = {"In": f"{key} in ({','.join(values)})", "NotIn": f"{key} notin ({','.join(values)})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op or "", key)
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs, key=lambda r: r[0]))


def _containers(template_spec: Obj | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


# -- built-in printers ----------------------------------------------------------------------
POD_COLUMNS = [
    NAME, col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    col("Status", description="The aggregate status of the containers in this pod."),
    col("Restarts", description="The number of times the containers in this pod have been restarted and when "
                                "the last container in this pod has restarted."),
    AGE, col("IP", description="podIP address allocated to the pod.", priority=1),
    col("Node", description="NodeName indicates in which node this pod is scheduled.", priority=1),
    col("Nominated Node", description="nominatedNodeName", priority=1),
    col("Readiness Gates", description="readinessGates", priority=1),
]


def pod_row(pod: Obj, now: float) -> tuple[list[Cell], list[Obj] | None]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarts = 0
    restartable_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: float | None = None
    last_restartable: float | None = None
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    conditions = None
    if phase == "Succeeded":
        conditions = [{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}]
    elif phase == "Failed":
        conditions = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    def restartable(name: str) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    total += sum(1 for c in init_specs.values() if c.get("restartPolicy") == "Always")

    def finished(cs: Obj) -> float | None:
        term = (cs.get("lastState") or {}).get("terminated")
        return parse_time(term.get("finishedAt")) if term else None

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        done = finished(cs)
        if done is not None and (last_restart is None or done > last_restart):
            last_restart = done
        if restartable(cs.get("name", "")):
            restartable_restarts += int(cs.get("restartCount") or 0)
            if done is not None and (last_restartable is None or done > last_restartable):
                last_restartable = done
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if restartable(cs.get("name", "")) and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            if not term.get("reason"):
                reason = f"Init:Signal:{term['signal']}" if term.get("signal") else f"Init:ExitCode:{term.get('exitCode', 0)}"
            else:
                reason = "Init:" + term["reason"]
        elif wait is not None and wait.get("reason") and wait.get("reason") != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts = restartable_restarts
        last_restart = last_restartable
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            done = finished(cs)
            if done is not None and (last_restart is None or done > last_restart):
                last_restart = done
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait is not None and wait.get("reason"):
                reason = wait["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
            reason = "Running" if ready_cond else "NotReady"

    meta = _meta(pod)
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_str = str(restarts)
    if restarts and last_restart is not None:
        restarts_str = f"{restarts} ({human_duration(now - last_restart)} ago)"

    pod_ips = status.get("podIPs") or []
    ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    gates_str = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        gates_str = f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    cells: list[Cell] = [meta.get("name", ""), f"{ready}/{total}", reason, restarts_str, _age(pod, now), ip,
                         spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_str]
    return cells, conditions


NODE_COLUMNS = [
    NAME, col("Status", description="The status of the node"), col("Roles", description="The roles of the node"),
    AGE, col("Version", description="Kubelet Version reported by the node."),
    col("Internal-IP", description="List of addresses reachable to the node. Queried from cloud provider, if available.", priority=1),
    col("External-IP", description="List of addresses reachable to the node. Queried from cloud provider, if available.", priority=1),
    col("OS-Image", description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority=1),
    col("Kernel-Version", description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority=1),
    col("Container-Runtime", description="Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority=1),
]


def node_row(node: Obj, now: float) -> list[Cell]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    states = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            states.append("Ready" if cond.get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in (_meta(node).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        return next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == kind), "<none>")

    return [_meta(node).get("name", ""), ",".join(states), ",".join(sorted(roles)) or "<none>", _age(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


SERVICE_COLUMNS = [
    NAME, col("Type", description="type determines how the Service is exposed."),
    col("Cluster-IP", description="clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", description="externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", description="The list of ports that are exposed by this service."), AGE,
    col("Selector", description="Route service traffic to pods with label keys and values matching this selector.", priority=1),
]


def service_row(svc: Obj, now: float) -> list[Cell]:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    svc_type = spec.get("type", "ClusterIP")
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external_ips = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif svc_type == "LoadBalancer":
        lb = [i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
        lb = [x for x in lb if x]
        external = ",".join(lb + external_ips) or "<pending>"
    elif svc_type == "ExternalName":
        external = spec.get("externalName", "")
    else:
        external = "<unknown>"
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    return [_meta(svc).get("name", ""), svc_type, cluster_ips[0] if cluster_ips else "<none>", external,
            ",".join(ports) or "<none>", _age(svc, now), format_labels(spec.get("selector"))]


ENDPOINTS_COLUMNS = [NAME, col("Endpoints", description="Endpoints of the resource."), AGE]


def endpoints_row(ep: Obj, now: float) -> list[Cell]:
    subsets = ep.get("subsets") or []
    if not subsets:
        text = "<none>"
    else:
        items: list[str] = []
        count, more, limit = 0, False, 3
        for ss in subsets:
            addrs = ss.get("addresses") or []
            ports = ss.get("ports") or []
            if not ports:
                count += len(addrs)
                for a in addrs:
                    if len(items) == limit:
                        more = True
                        break
                    items.append(a.get("ip", ""))
                continue
            for port in ports:
                count += len(addrs)
                for a in addrs:
                    if len(items) == limit:
                        more = True
                        break
                    ip = a.get("ip", "")
                    host = f"[{ip}]" if ":" in ip else ip
                    items.append(f"{host}:{port.get('port')}")
        text = ",".join(items)
        if more:
            text = f"{text} + {count - limit} more..."
    return [_meta(ep).get("name", ""), text, _age(ep, now)]


ENDPOINTSLICE_COLUMNS = [
    NAME, col("AddressType", description="Type of address carried by this EndpointSlice"),
    col("Ports", description="Ports allowed by this EndpointSlice"),
    col("Endpoints", description="Endpoints included in this EndpointSlice"), AGE,
]


def _with_more(items: list[str], more: bool, count: int, limit: int = 3) -> str:
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def endpointslice_row(es: Obj, now: float) -> list[Cell]:
    ports: list[str] = []
    more, count = False, 0
    for p in es.get("ports") or []:
        if len(ports) < 3:
            ports.append(str(p["port"]) if p.get("port") is not None else (p.get("name") or "*"))
        else:
            more = True
        count += 1
    ports_str = _with_more(ports, more, count)
    addrs: list[str] = []
    more, count = False, 0
    for ep in es.get("endpoints") or []:
        for a in ep.get("addresses") or []:
            if len(addrs) < 3:
                addrs.append(a)
            else:
                more = True
            count += 1
    return [_meta(es).get("name", ""), es.get("addressType", ""), ports_str, _with_more(addrs, more, count),
            _age(es, now)]


DEPLOYMENT_COLUMNS = [
    NAME, col("Ready", description="Number of the pod with ready state"),
    col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
    col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
    AGE, _CONTAINERS, _IMAGES, _SELECTOR,
]


def deployment_row(d: Obj, now: float) -> list[Cell]:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers((spec.get("template") or {}).get("spec"))
    return [_meta(d).get("name", ""), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            int(status.get("updatedReplicas", 0)), int(status.get("availableReplicas", 0)), _age(d, now),
            names, images, selector_string(spec.get("selector"))]


REPLICASET_COLUMNS = [
    NAME, col("Desired", "integer", "Number of desired pods."), col("Current", "integer", "Number of actual pods."),
    col("Ready", "integer", "Number of ready pods."), AGE, _CONTAINERS, _IMAGES, _SELECTOR,
]


def replicaset_row(rs: Obj, now: float) -> list[Cell]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers((spec.get("template") or {}).get("spec"))
    return [_meta(rs).get("name", ""), int(spec.get("replicas", 1)), int(status.get("replicas", 0)),
            int(status.get("readyReplicas", 0)), _age(rs, now), names, images, selector_string(spec.get("selector"))]


DAEMONSET_COLUMNS = [
    NAME, col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
    col("Current", "integer", "The number of nodes running at least one daemon pod and are supposed to."),
    col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
    col("Node Selector", description="NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE, _CONTAINERS, _IMAGES, _SELECTOR,
]


def daemonset_row(ds: Obj, now: float) -> list[Cell]:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    names, images = _containers(template_spec)
    return [_meta(ds).get("name", ""), int(status.get("desiredNumberScheduled", 0)),
            int(status.get("currentNumberScheduled", 0)), int(status.get("numberReady", 0)),
            int(status.get("updatedNumberScheduled", 0)), int(status.get("numberAvailable", 0)),
            format_labels(template_spec.get("nodeSelector")), _age(ds, now), names, images,
            selector_string(spec.get("selector"))]


STATEFULSET_COLUMNS = [NAME, col("Ready", description="Number of the pod with ready state"), AGE, _CONTAINERS, _IMAGES]


def statefulset_row(s: Obj, now: float) -> list[Cell]:
    spec, status = s.get("spec") or {}, s.get("status") or {}
    names, images = _containers((spec.get("template") or {}).get("spec"))
    return [_meta(s).get("name", ""), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", _age(s, now),
            names, images]


CONFIGMAP_COLUMNS = [NAME, col("Data", "integer", "Data contains the configuration data."), AGE]
SECRET_COLUMNS = [NAME, col("Type", description="Used to facilitate programmatic handling of secret data."),
                  col("Data", "integer", "Data contains the secret data."), AGE]
NAMESPACE_COLUMNS = [NAME, col("Status", description="The status of the namespace"), AGE]
SERVICEACCOUNT_COLUMNS = [NAME, col("Secrets", "integer", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), AGE]
NETWORKPOLICY_COLUMNS = [NAME, col("Pod-Selector", description="Selects the pods to which this NetworkPolicy object applies."), AGE]
EVENT_COLUMNS = [
    col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    col("Type", description="Type of this event (Normal, Warning), new types could be added in the future."),
    col("Reason", description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", description="The object that this event is about."),
    col("Subobject", description="The subobject that this event is about.", priority=1),
    col("Source", description="The component reporting this event. Should be a short machine understandable string.", priority=1),
    col("Message", description="A human-readable description of the status of this operation."),
    col("First Seen", description="The time at which the event was first recorded.", priority=1),
    col("Count", description="The number of times this event has occurred.", priority=1),
    col("Name", fmt="name", description=NAME_DESC, priority=1),
]


def event_row(ev: Obj, now: float) -> list[Cell]:
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    last = ev.get("lastTimestamp") or (ev.get("series") or {}).get("lastObservedTime") or first
    count = ev.get("count") or (ev.get("series") or {}).get("count") or 1
    last_seen = since(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {since(first, now)})"
    inv = ev.get("involvedObject") or {}
    source = ev.get("source") or {}
    src = ",".join(x for x in (source.get("component") or ev.get("reportingComponent"), source.get("host")) if x)
    return [last_seen, ev.get("type", ""), ev.get("reason", ""), f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}",
            inv.get("fieldPath", ""), src, (ev.get("message") or "").strip(), since(first, now), int(count),
            _meta(ev).get("name", "")]


CREATED_AT = [NAME, col("Created At", "date", "CreationTimestamp is a timestamp representing the server time when "
                                              "this object was created.")]

BINDING_COLUMNS = [NAME, col("Role", description="RoleRef is the reference to the role."), AGE,
                   col("Users", description="Users in the binding.", priority=1),
                   col("Groups", description="Groups in the binding.", priority=1),
                   col("ServiceAccounts", description="ServiceAccounts in the binding.", priority=1)]


def binding_row(o: Obj, now: float) -> list[Cell]:
    """`kubectl get rolebinding`: ROLE is `Kind/name`; -o wide lists the subjects by kind."""
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join(s.get("name", "") if kind != "ServiceAccount" else f"{s.get('namespace', '')}/{s.get('name', '')}"
                         for s in subjects if s.get("kind") == kind)
    return [_meta(o).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(o, now),
            names("User"), names("Group"), names("ServiceAccount")]


Printer = tuple[list[dict[str, Any]], Callable[[Obj, float], list[Cell]]]
PRINTERS: dict[str, Printer] = {
    "Node": (NODE_COLUMNS, node_row),
    "Service": (SERVICE_COLUMNS, service_row),
    "Endpoints": (ENDPOINTS_COLUMNS, endpoints_row),
    "EndpointSlice": (ENDPOINTSLICE_COLUMNS, endpointslice_row),
    "Deployment": (DEPLOYMENT_COLUMNS, deployment_row),
    "ReplicaSet": (REPLICASET_COLUMNS, replicaset_row),
    "DaemonSet": (DAEMONSET_COLUMNS, daemonset_row),
    "StatefulSet": (STATEFULSET_COLUMNS, statefulset_row),
    "ConfigMap": (CONFIGMAP_COLUMNS, lambda o, now: [_meta(o).get("name", ""),
                                                     len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o, now)]),
    "Secret": (SECRET_COLUMNS, lambda o, now: [_meta(o).get("name", ""), o.get("type", "Opaque"),
                                               len(o.get("data") or {}), _age(o, now)]),
    "Namespace": (NAMESPACE_COLUMNS, lambda o, now: [_meta(o).get("name", ""),
                                                     (o.get("status") or {}).get("phase", ""), _age(o, now)]),
    "ServiceAccount": (SERVICEACCOUNT_COLUMNS, lambda o, now: [_meta(o).get("name", ""),
                                                               len(o.get("secrets") or []), _age(o, now)]),
    "NetworkPolicy": (NETWORKPOLICY_COLUMNS, lambda o, now: [_meta(o).get("name", ""),
                                                             selector_string((o.get("spec") or {}).get("podSelector")) or "<none>",
                                                             _age(o, now)]),
    "Event": (EVENT_COLUMNS, event_row),
    "RoleBinding": (BINDING_COLUMNS, binding_row),
    "ClusterRoleBinding": (BINDING_COLUMNS, binding_row),
}


# -- custom resources: CRD printer columns --------------------------------------------------
_TOKEN = re.compile(r"""\[\?\(@\.([\w.-]+)\s*==\s*(['"])(.*?)\2\)\]|\[(\d+)\]|((?:\\\.|[^.\[])+)""")


def jsonpath_first(obj: Any, path: str) -> Any:
    """First result of the simple JSONPath forms CRD printer columns use: `.a.b`, `.a[0].b`,
    `.a[?(@.type=='X')].b`, and `\\.`-escaped dots inside a key."""
    results = [obj]
    for m in _TOKEN.finditer(path.lstrip(".")):
        field, _, want, index, key = m.groups()
        nxt: list[Any] = []
        for cur in results:
            if field is not None:
                for item in cur if isinstance(cur, list) else []:
                    value = item
                    for part in field.split("."):
                        value = value.get(part) if isinstance(value, dict) else None
                    if value is not None and str(value) == want:
                        nxt.append(item)
            elif index is not None:
                if isinstance(cur, list) and int(index) < len(cur):
                    nxt.append(cur[int(index)])
            else:
                name = key.replace("\\.", ".")
                if isinstance(cur, dict) and name in cur:
                    nxt.append(cur[name])
        results = nxt
        if not results:
            return None
    return results[0] if results else None


def _cr_cell(value: Any, type_: str, now: float) -> Cell:
    if value is None:
        return None
    try:
        if type_ == "integer":
            return int(value)
        if type_ == "number":
            return float(value)
        if type_ == "boolean":
            return bool(value)
        if type_ == "date":
            t = parse_time(str(value))
            return human_duration(now - t) if t is not None else str(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _custom(kind: str) -> Printer:
    printer = PRINTER_COLUMNS.get(kind) or [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                                             "description": "", "priority": 0}]
    columns = [NAME] + [col(c["name"], c["type"], c.get("description") or "", c.get("priority", 0),
                            c.get("format", "")) for c in printer]

    def row(obj: Obj, now: float) -> list[Cell]:
        return [_meta(obj).get("name", "")] + [_cr_cell(jsonpath_first(obj, c["jsonPath"]), c["type"], now)
                                               for c in printer]

    return columns, row


def _created_at(obj: Obj, now: float) -> list[Cell]:
    return [_meta(obj).get("name", ""), _meta(obj).get("creationTimestamp")]


def printer_for(kind: str, custom: bool) -> Printer:
    if custom:
        return _custom(kind)
    if kind == "Pod":
        return POD_COLUMNS, lambda o, now: pod_row(o, now)[0]
    return PRINTERS.get(kind, (CREATED_AT, _created_at))


# -- the Table ------------------------------------------------------------------------------
def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(kind: str, custom: bool, objs: list[Obj], now: float, resource_version: str, *,
          include: str = "Metadata", with_columns: bool = True, continue_token: str = "") -> Obj:
    columns, row_fn = printer_for(kind, custom)
    rows = []
    for obj in objs:
        row: Obj = {"cells": row_fn(obj, now)}
        if kind == "Pod" and not custom:
            conditions = pod_row(obj, now)[1]
            if conditions:
                row["conditions"] = conditions
        ro = _row_object(obj, include)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    meta: Obj = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": columns if with_columns else None, "rows": rows}


def wants_table(accept: str) -> bool:
    accept = accept.replace(" ", "")
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))
