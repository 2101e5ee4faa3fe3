"""What Prometheus 2.42's `kubernetes_sd_configs` would discover, from Kubernetes objects.

Each role is a pure function of store objects returning targets: flat label dicts that hold
`__address__` and the `__meta_kubernetes_*` labels (the target group's labels merged under
the target's own, as Prometheus merges them before relabeling). The label sets follow
prometheus/prometheus v2.42 `discovery/kubernetes/{pod,endpoints,service,node}.go`:

* pod: one target per container port (`podIP:containerPort`), one port-less target
  (`podIP`) per container without ports; init containers too (`pod_container_init`).
  Pods without a pod IP give no targets.
* endpoints: one target per address x port of every subset (`ready` true/false), with the
  Service's labels and, for `targetRef: Pod` addresses, the pod's labels and the container
  port whose number equals the endpoint port; then one target for every container port of
  those pods that no endpoint port covered.
* service: one target per service port, `<name>.<namespace>.svc:<port>`.
* node: one target per node at its first InternalIP/ExternalIP/LegacyHostIP/Hostname and
  the kubelet port, with `instance` = the node name.

`attach_metadata: {node: true}` (pod and endpoints roles) adds the node's name and labels.
The `namespaces` and `selectors` options of the SD config filter the objects as the
informers would (label selectors; `metadata.name`, `metadata.namespace`, `spec.nodeName`
and `status.phase` field selectors).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from ..k8s.selectors import parse_label_selector

META = "__meta_kubernetes_"
ADDRESS = "__address__"
PRESENT = "true"
ROLES = ("endpoints", "pod", "service", "node")

Target = dict[str, str]
Objects = Callable[[str], list[dict]]

_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize(name: str) -> str:
    """prometheus/util/strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] → `_`."""
    return _INVALID_LABEL_CHARS.sub("_", name)


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _ns(obj: dict) -> str:
    return _meta(obj).get("namespace") or ""


def _name(obj: dict) -> str:
    return _meta(obj).get("name") or ""


def _join_host_port(host: str, port: int | str) -> str:
    """Go's net.JoinHostPort: IPv6 literals get brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _object_meta_labels(obj: dict, role: str) -> Target:
    """`<role>_name`, `<role>_label_*`, `<role>_labelpresent_*`, `<role>_annotation_*`,
    `<role>_annotationpresent_*` (names sanitized, values verbatim)."""
    meta = _meta(obj)
    out: Target = {f"{META}{role}_name": meta.get("name") or ""}
    for key, value in (meta.get("labels") or {}).items():
        ln = sanitize(key)
        out[f"{META}{role}_label_{ln}"] = str(value)
        out[f"{META}{role}_labelpresent_{ln}"] = PRESENT
    for key, value in (meta.get("annotations") or {}).items():
        ln = sanitize(key)
        out[f"{META}{role}_annotation_{ln}"] = str(value)
        out[f"{META}{role}_annotationpresent_{ln}"] = PRESENT
    return out


# -- pod ----------------------------------------------------------------------------------------

def _pod_ready(pod: dict) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status", "Unknown")).lower()
    return "unknown"


def pod_labels(pod: dict) -> Target:
    """The labels every target of a pod carries (podLabels in pod.go)."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    out = _object_meta_labels(pod, "pod")
    out.update({
        f"{META}pod_ip": status.get("podIP") or "",
        f"{META}pod_ready": _pod_ready(pod),
        f"{META}pod_phase": status.get("phase") or "",
        f"{META}pod_node_name": spec.get("nodeName") or "",
        f"{META}pod_host_ip": status.get("hostIP") or "",
        f"{META}pod_uid": _meta(pod).get("uid") or "",
    })
    for ref in _meta(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            if ref.get("kind"):
                out[f"{META}pod_controller_kind"] = ref["kind"]
            if ref.get("name"):
                out[f"{META}pod_controller_name"] = ref["name"]
            break
    return out


def _container_id(statuses: list[dict], name: str) -> str:
    for s in statuses or []:
        if s.get("name") == name:
            return s.get("containerID") or ""
    return ""


def pod_targets(pod: dict, nodes: Mapping[str, dict] | None = None) -> list[Target]:
    status = pod.get("status") or {}
    pod_ip = status.get("podIP") or ""
    if not pod_ip:
        return []
    group = pod_labels(pod)
    group[f"{META}namespace"] = _ns(pod)
    if nodes is not None:
        group.update(node_meta_labels(nodes, (pod.get("spec") or {}).get("nodeName")))
    spec = pod.get("spec") or {}
    out: list[Target] = []
    containers = [(c, False) for c in spec.get("containers") or []]
    containers += [(c, True) for c in spec.get("initContainers") or []]
    for container, is_init in containers:
        statuses = status.get("initContainerStatuses" if is_init else "containerStatuses") or []
        base = {
            f"{META}pod_container_name": container.get("name") or "",
            f"{META}pod_container_id": _container_id(statuses, container.get("name") or ""),
            f"{META}pod_container_image": container.get("image") or "",
            f"{META}pod_container_init": "true" if is_init else "false",
        }
        ports = container.get("ports") or []
        if not ports:
            out.append({**group, ADDRESS: pod_ip, **base})
            continue
        for port in ports:
            number = str(int(port.get("containerPort") or 0))
            out.append({**group, ADDRESS: _join_host_port(pod_ip, number), **base,
                        f"{META}pod_container_port_number": number,
                        f"{META}pod_container_port_name": port.get("name") or "",
                        f"{META}pod_container_port_protocol": port.get("protocol") or "TCP"})
    return out


# -- node ---------------------------------------------------------------------------------------

def node_meta_labels(nodes: Mapping[str, dict], node_name: str | None) -> Target:
    """`attach_metadata: {node: true}`: the node's name and labels (addNodeLabels)."""
    if not node_name or node_name not in nodes:
        return {}
    out: Target = {f"{META}node_name": node_name}
    for key, value in (_meta(nodes[node_name]).get("labels") or {}).items():
        ln = sanitize(key)
        out[f"{META}node_label_{ln}"] = str(value)
        out[f"{META}node_labelpresent_{ln}"] = PRESENT
    return out


_NODE_ADDRESS_ORDER = ("InternalIP", "ExternalIP", "LegacyHostIP", "Hostname")


def node_targets(node: dict) -> list[Target]:
    status = node.get("status") or {}
    by_type: dict[str, list[str]] = {}
    for addr in status.get("addresses") or []:
        by_type.setdefault(addr.get("type") or "", []).append(addr.get("address") or "")
    address = next((by_type[t][0] for t in _NODE_ADDRESS_ORDER if t in by_type), None)
    if address is None:
        return []  # "No node address found": the node has no target group at all
    group = _object_meta_labels(node, "node")
    group[f"{META}node_provider_id"] = (node.get("spec") or {}).get("providerID") or ""
    port = int((((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")) or 0)
    target: Target = {**group, ADDRESS: _join_host_port(address, port), "instance": _name(node)}
    for addr_type, values in by_type.items():
        target[sanitize(f"{META}node_address_{addr_type}")] = values[0]
    return [target]


# -- service ------------------------------------------------------------------------------------

def service_labels(svc: dict) -> Target:
    out = _object_meta_labels(svc, "service")
    out[f"{META}namespace"] = _ns(svc)
    return out


def service_targets(svc: dict) -> list[Target]:
    group = service_labels(svc)
    spec = svc.get("spec") or {}
    svc_type = spec.get("type") or "ClusterIP"
    out: list[Target] = []
    for port in spec.get("ports") or []:
        number = str(int(port.get("port") or 0))
        target: Target = {**group, ADDRESS: _join_host_port(f"{_name(svc)}.{_ns(svc)}.svc", number),
                          f"{META}service_port_name": port.get("name") or "",
                          f"{META}service_port_number": number,
                          f"{META}service_port_protocol": port.get("protocol") or "TCP",
                          f"{META}service_type": svc_type}
        if svc_type == "ExternalName":
            target[f"{META}service_external_name"] = spec.get("externalName") or ""
        else:
            target[f"{META}service_cluster_ip"] = spec.get("clusterIP") or ""
        out.append(target)
    return out


# -- endpoints ----------------------------------------------------------------------------------

def endpoints_targets(eps: dict, services: Mapping[tuple[str, str], dict], pods: Mapping[tuple[str, str], dict],
                      nodes: Mapping[str, dict] | None = None) -> list[Target]:
    ns, name = _ns(eps), _name(eps)
    group: Target = {f"{META}namespace": ns, f"{META}endpoints_name": name}
    svc = services.get((ns, name))
    if svc is not None:
        group.update(service_labels(svc))
    for key, value in (_meta(eps).get("labels") or {}).items():
        ln = sanitize(key)
        group[f"{META}endpoints_label_{ln}"] = str(value)
        group[f"{META}endpoints_labelpresent_{ln}"] = PRESENT

    out: list[Target] = []
    seen_pods: dict[tuple[str, str], tuple[dict, list[int]]] = {}

    def add(addr: dict, port: dict, ready: str) -> None:
        number = int(port.get("port") or 0)
        protocol = port.get("protocol") or "TCP"
        target: Target = {ADDRESS: _join_host_port(addr.get("ip") or "", number),
                          f"{META}endpoint_port_name": port.get("name") or "",
                          f"{META}endpoint_port_protocol": protocol,
                          f"{META}endpoint_ready": ready}
        ref = addr.get("targetRef")
        if ref:
            target[f"{META}endpoint_address_target_kind"] = ref.get("kind") or ""
            target[f"{META}endpoint_address_target_name"] = ref.get("name") or ""
        if addr.get("nodeName"):
            target[f"{META}endpoint_node_name"] = addr["nodeName"]
        if addr.get("hostname"):
            target[f"{META}endpoint_hostname"] = addr["hostname"]
        if nodes is not None:
            target.update(node_meta_labels(nodes, addr.get("nodeName")))
        pod = pods.get((ref.get("namespace") or ns, ref.get("name") or "")) if ref and ref.get("kind") == "Pod" else None
        if pod is None:
            out.append({**group, **target})
            return
        key = (_ns(pod), _name(pod))
        entry = seen_pods.setdefault(key, (pod, []))
        target.update(pod_labels(pod))
        for container in (pod.get("spec") or {}).get("containers") or []:
            match = next((p for p in container.get("ports") or [] if int(p.get("containerPort") or 0) == number), None)
            if match is not None:
                target[f"{META}pod_container_name"] = container.get("name") or ""
                target[f"{META}pod_container_image"] = container.get("image") or ""
                target[f"{META}pod_container_port_name"] = match.get("name") or ""
                target[f"{META}pod_container_port_number"] = str(number)
                target[f"{META}pod_container_port_protocol"] = protocol
                break
        entry[1].append(number)
        out.append({**group, **target})

    for subset in eps.get("subsets") or []:
        for port in subset.get("ports") or []:
            for addr in subset.get("addresses") or []:
                add(addr, port, "true")
            for addr in subset.get("notReadyAddresses") or []:
                add(addr, port, "false")

    for pod, covered in seen_pods.values():
        pod_ip = (pod.get("status") or {}).get("podIP") or ""
        if not pod_ip:  # a pod starting or evicted
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            for cport in container.get("ports") or []:
                number = int(cport.get("containerPort") or 0)
                if number in covered:
                    continue
                out.append({**group, ADDRESS: _join_host_port(pod_ip, number),
                            f"{META}pod_container_name": container.get("name") or "",
                            f"{META}pod_container_image": container.get("image") or "",
                            f"{META}pod_container_port_name": cport.get("name") or "",
                            f"{META}pod_container_port_number": str(number),
                            f"{META}pod_container_port_protocol": cport.get("protocol") or "TCP",
                            **pod_labels(pod)})
    return out


# -- filtering and the entry point --------------------------------------------------------------

_FIELD_PATHS = {"metadata.name": lambda o: _name(o), "metadata.namespace": lambda o: _ns(o),
                "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName") or "",
                "status.phase": lambda o: (o.get("status") or {}).get("phase") or ""}
_FIELD_REQ = re.compile(r"^\s*([^!=\s]+)\s*(!=|==|=)\s*(.*?)\s*$")


def _field_predicate(text: str) -> Callable[[dict], bool]:
    reqs: list[Callable[[dict], bool]] = []
    for part in text.split(","):
        m = _FIELD_REQ.match(part)
        if m is None:
            continue
        key, op, value = m.groups()
        getter = _FIELD_PATHS.get(key)
        if getter is None:
            continue  # a field the lab does not index: the API server would reject it; keep everything
        reqs.append(lambda o, g=getter, v=value, n=(op == "!="): (g(o) != v) if n else (g(o) == v))
    return lambda o: all(r(o) for r in reqs)


def _selector_filter(sd: dict, role: str) -> Callable[[dict], bool]:
    preds: list[Callable[[dict], bool]] = []
    for sel in sd.get("selectors") or []:
        if sel.get("role") != role:
            continue
        if sel.get("label"):
            label_pred = parse_label_selector(str(sel["label"]))
            preds.append(lambda o, p=label_pred: p(_meta(o).get("labels") or {}))
        if sel.get("field"):
            preds.append(_field_predicate(str(sel["field"])))
    return lambda o: all(p(o) for p in preds)


def sd_namespaces(sd: dict, own_namespace: str | None) -> set[str] | None:
    """The namespaces a kubernetes_sd_config watches (None: all)."""
    spec = sd.get("namespaces") or {}
    names = set(spec.get("names") or [])
    if spec.get("own_namespace") and own_namespace:
        names.add(own_namespace)
    return names or None


def discover(sd: dict, objects: Objects, *, own_namespace: str | None = None) -> list[Target]:
    """The targets of one `kubernetes_sd_configs` entry (`role`, `namespaces`, `selectors`,
    `attach_metadata`). Raises ValueError for a role the lab does not discover."""
    role = str(sd.get("role") or "").lower()
    if role not in ROLES:
        raise ValueError(f"kubernetes_sd_configs role {role!r} is not supported by the lab "
                         f"(supported: {', '.join(ROLES)})")
    namespaces = sd_namespaces(sd, own_namespace)

    def listed(kind: str, sel_role: str) -> list[dict]:
        keep = _selector_filter(sd, sel_role)
        items = objects(kind)
        if kind != "Node" and namespaces is not None:
            items = [o for o in items if _ns(o) in namespaces]
        return [o for o in items if keep(o)]

    attach_nodes = bool((sd.get("attach_metadata") or {}).get("node")) and role in ("pod", "endpoints")
    nodes = {_name(n): n for n in objects("Node")} if attach_nodes else None
    out: list[Target] = []
    if role == "node":
        for node in listed("Node", "node"):
            out += node_targets(node)
    elif role == "service":
        for svc in listed("Service", "service"):
            out += service_targets(svc)
    elif role == "pod":
        for pod in listed("Pod", "pod"):
            out += pod_targets(pod, nodes)
    else:
        services = {(_ns(s), _name(s)): s for s in listed("Service", "service")}
        pods = {(_ns(p), _name(p)): p for p in listed("Pod", "pod")}
        for eps in listed("Endpoints", "endpoints"):
            out += endpoints_targets(eps, services, pods, nodes)
    return out


def file_sd_groups(targets: Iterable[Target]) -> list[dict]:
    """Targets as a file_sd JSON document: one group per target, `__address__` as the target."""
    groups = []
    for t in targets:
        labels = {k: v for k, v in sorted(t.items()) if k != ADDRESS}
        groups.append({"targets": [t.get(ADDRESS, "")], "labels": labels})
    return groups
