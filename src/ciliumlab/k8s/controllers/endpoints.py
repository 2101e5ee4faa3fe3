"""Endpoints and EndpointSlice controllers: keep every selector Service's backends current."""

from __future__ import annotations

import copy
import ipaddress

from . import Controller
from .util import is_active, now, owner_ref, pod_ready

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
MANAGER = "endpointslice-controller.k8s.io"
HEADLESS = "service.kubernetes.io/headless"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def _ip_key(ip: str):
    try:
        return (0, int(ipaddress.ip_address(ip)))
    except ValueError:
        return (1, ip)


def resolve_target_port(svc_port: dict, pod: dict) -> int | None:
    """A Service port's targetPort on one pod (named ports looked up in the pod's containers)."""
    tp = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str):
        if tp.isdigit():
            return int(tp)
        proto = svc_port.get("protocol", "TCP")
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == tp and p.get("protocol", "TCP") == proto:
                    return p.get("containerPort")
    return None


def selected_pods(store, svc: dict) -> list[dict]:
    sel = (svc.get("spec") or {}).get("selector") or {}
    ns = svc["metadata"]["namespace"]
    out = []
    for p in store.list("Pod", ns):
        labels = p["metadata"].get("labels") or {}
        if not all(labels.get(k) == v for k, v in sel.items()):
            continue
        if not is_active(p) or not (p.get("status") or {}).get("podIP"):
            continue
        out.append(p)
    return sorted(out, key=lambda p: _ip_key(p["status"]["podIP"]))


def _managed(svc: dict) -> bool:
    spec = svc.get("spec") or {}
    return bool(spec.get("selector")) and spec.get("type") != "ExternalName"


def _port_groups(svc: dict, pods: list[dict]) -> list[tuple[tuple, list[dict]]]:
    """Group pods by their resolved port list: [((name, port, proto, appProtocol), ...), pods]."""
    groups: dict[tuple, list[dict]] = {}
    for pod in pods:
        ports = []
        for sp in (svc.get("spec") or {}).get("ports") or []:
            port = resolve_target_port(sp, pod)
            if port is None:
                continue
            ports.append((sp.get("name", ""), port, sp.get("protocol", "TCP"), sp.get("appProtocol")))
        groups.setdefault(tuple(ports), []).append(pod)
    return list(groups.items())


def _target_ref(pod: dict) -> dict:
    return {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"],
            "uid": pod["metadata"]["uid"]}


def _labels(svc: dict) -> dict:
    labels = dict(svc["metadata"].get("labels") or {})
    if (svc.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS] = ""
    return labels


class EndpointsController(Controller):
    name = "endpoints"

    def sync(self) -> None:
        services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in self.store.list("Service")}
        for _key, svc in sorted(services.items()):
            if _managed(svc):
                self.sync_one(svc)
        for ep in self.store.list("Endpoints"):
            key = (ep["metadata"]["namespace"], ep["metadata"]["name"])
            if key not in services and TRIGGER in (ep["metadata"].get("annotations") or {}):
                self.store.delete("Endpoints", *key)

    def desired_subsets(self, svc: dict) -> list[dict]:
        publish = (svc.get("spec") or {}).get("publishNotReadyAddresses", False)
        subsets = []
        for ports, pods in _port_groups(svc, selected_pods(self.store, svc)):
            if not ports and (svc.get("spec") or {}).get("clusterIP") != "None":
                continue
            ready, not_ready = [], []
            for p in pods:
                addr = {"ip": p["status"]["podIP"], "nodeName": p["spec"].get("nodeName"), "targetRef": _target_ref(p)}
                if not addr["nodeName"]:
                    del addr["nodeName"]
                (ready if publish or pod_ready(p) else not_ready).append(addr)
            subset: dict = {}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            sub_ports = []
            for name, port, proto, app in ports:
                ep = {"port": port, "protocol": proto}
                if name:
                    ep = {"name": name, **ep}
                if app:
                    ep["appProtocol"] = app
                sub_ports.append(ep)
            if sub_ports:
                subset["ports"] = sub_ports
            subsets.append(subset)
        return subsets

    def sync_one(self, svc: dict) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        subsets = self.desired_subsets(svc)
        old = self.store.get("Endpoints", ns, name)
        new = copy.deepcopy(old) if old else {"apiVersion": "v1", "kind": "Endpoints",
                                               "metadata": {"name": name, "namespace": ns}}
        labels = _labels(svc)
        changed = old is None or (old.get("subsets") or []) != subsets or (old["metadata"].get("labels") or {}) != labels
        if not changed:
            return
        if labels:
            new["metadata"]["labels"] = labels
        else:
            new["metadata"].pop("labels", None)
        new["metadata"].setdefault("annotations", {})[TRIGGER] = now(self.ctx)
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        if old is None:
            self.store.create(new)
        else:
            self.store.update(new)


class EndpointSliceController(Controller):
    name = "endpointslice"

    def sync(self) -> None:
        for svc in sorted(self.store.list("Service"), key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            if _managed(svc):
                self.sync_one(svc)

    def desired(self, svc: dict) -> list[tuple[list[dict], list[dict]]]:
        publish = (svc.get("spec") or {}).get("publishNotReadyAddresses", False)
        out = []
        for ports, pods in _port_groups(svc, selected_pods(self.store, svc)):
            eps = []
            for p in pods:
                ready = pod_ready(p)
                ep = {"addresses": [p["status"]["podIP"]],
                      "conditions": {"ready": ready or publish, "serving": ready, "terminating": False}}
                if p["spec"].get("nodeName"):
                    ep["nodeName"] = p["spec"]["nodeName"]
                ep["targetRef"] = _target_ref(p)
                eps.append(ep)
            sp = []
            for name, port, proto, app in ports:
                e = {"name": name, "port": port, "protocol": proto}
                if app:
                    e["appProtocol"] = app
                sp.append(e)
            out.append((eps, sp))
        return out

    def sync_one(self, svc: dict) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        mine = sorted((s for s in self.store.list("EndpointSlice", ns)
                       if (s["metadata"].get("labels") or {}).get(SERVICE_NAME) == name
                       and (s["metadata"].get("labels") or {}).get(MANAGED_BY) == MANAGER),
                      key=lambda s: s["metadata"]["name"])
        desired = self.desired(svc) or [([], [])]
        labels = _labels(svc)
        labels[SERVICE_NAME] = name
        labels[MANAGED_BY] = MANAGER
        # Reuse slices whose port list matches first, then any leftover slice, then create.
        remaining = list(mine)
        plan: list[tuple[dict | None, list[dict], list[dict]]] = []
        for eps, ports in desired:
            match = next((s for s in remaining if (s.get("ports") or []) == ports), None)
            if match is not None:
                remaining.remove(match)
            plan.append((match, eps, ports))
        plan = [(s if s is not None else (remaining.pop(0) if remaining else None), e, p) for s, e, p in plan]
        for s in remaining:
            self.store.delete("EndpointSlice", ns, s["metadata"]["name"])
        for old, eps, ports in plan:
            if old is None:
                slice_name = self.ctx.names.generate(
                    f"{name}-", lambda n: self.store.get("EndpointSlice", ns, n) is not None)
                new = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                       "metadata": {"name": slice_name, "generateName": f"{name}-", "namespace": ns,
                                    "ownerReferences": [owner_ref(svc)]},
                       "addressType": "IPv4"}
            else:
                new = copy.deepcopy(old)
            new["metadata"]["labels"] = dict(labels)
            new["endpoints"] = eps if eps else None
            new["ports"] = ports if ports else None
            if old is not None and all(new.get(k) == old.get(k) for k in ("endpoints", "ports")) and \
                    old["metadata"].get("labels") == labels:
                continue
            new["metadata"].setdefault("annotations", {})[TRIGGER] = now(self.ctx)
            if old is None:
                self.store.create(new)
            else:
                self.store.update(new)
