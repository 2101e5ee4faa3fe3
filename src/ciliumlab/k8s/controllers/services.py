"""Service ClusterIP and NodePort allocation (the API server's allocators).

Call `assign_service_addresses(store, svc, service_cidr)` at create time (after
`apply_defaults`, before `store.create`) so the created object already carries its
`clusterIP`/`clusterIPs`/`nodePort`s, as the real API server returns it; it raises
`InvalidObject` for a requested IP/port that is out of range or already allocated.
`ServiceIPController` fills in any Service that was stored without them (safety net).

Allocation is deterministic: a hash of namespace/name picks the starting point in the dynamic
band (the real allocator is random and prefers the upper part of the range; the first /20 of the
service CIDR and ports 30000-30085 are the "static" bands it avoids), then probes for a free one.
10.96.0.1 (kubernetes) and 10.96.0.10 (kube-dns) are only handed out when requested.
"""

from __future__ import annotations

import copy
import ipaddress
import zlib

from ...errors import FieldError, InvalidObject
from ..validation import INVALID, NODE_PORT_RANGE, go_value
from . import Controller

RESERVED_OFFSETS = (1, 10)


def _used_ips(store, exclude: tuple[str, str] | None = None) -> set[str]:
    used = set()
    for s in store.list("Service"):
        if exclude and (s["metadata"].get("namespace"), s["metadata"]["name"]) == exclude:
            continue
        spec = s.get("spec") or {}
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
            if ip and ip != "None":
                used.add(ip)
    return used


def _used_node_ports(store, exclude: tuple[str, str] | None = None) -> set[int]:
    used = set()
    for s in store.list("Service"):
        if exclude and (s["metadata"].get("namespace"), s["metadata"]["name"]) == exclude:
            continue
        for p in (s.get("spec") or {}).get("ports") or []:
            if p.get("nodePort"):
                used.add(p["nodePort"])
    return used


def _seed(svc: dict, salt: str = "") -> int:
    return zlib.crc32(f"{svc['metadata'].get('namespace', 'default')}/{svc['metadata']['name']}{salt}".encode())


def allocate_cluster_ip(store, svc: dict, service_cidr: str = "10.96.0.0/16", used: set[str] | None = None) -> str:
    net = ipaddress.ip_network(service_cidr)
    size = net.num_addresses
    used = _used_ips(store) if used is None else used
    static_band = min(max(16, size // 16), 256)
    dyn = size - 2 - static_band
    start = _seed(svc) % dyn
    for i in range(size - 2):
        if i < dyn:
            off = static_band + 1 + (start + i) % dyn
        else:
            off = 1 + (i - dyn)
        if off in RESERVED_OFFSETS:
            continue
        ip = str(net.network_address + off)
        if ip not in used:
            return ip
    raise InvalidObject("Internal error occurred: failed to allocate a serviceIP: range is full", code=500,
                        reason="InternalError")


def allocate_node_port(store, svc: dict, used: set[int] | None = None, salt: str = "") -> int:
    lo, hi = NODE_PORT_RANGE
    size = hi - lo + 1
    used = _used_node_ports(store) if used is None else used
    static_band = min(max(16, size // 32), 128)
    dyn = size - static_band
    start = _seed(svc, salt) % dyn
    for i in range(size):
        port = lo + static_band + (start + i) % dyn if i < dyn else lo + (i - dyn)
        if port not in used:
            return port
    raise InvalidObject("Internal error occurred: failed to allocate a nodePort: range is full", code=500,
                        reason="InternalError")


def assign_service_addresses(store, svc: dict, service_cidr: str = "10.96.0.0/16") -> dict:
    """Return a copy of `svc` with clusterIP(s) and nodePorts allocated; raises InvalidObject on conflicts."""
    svc = copy.deepcopy(svc)
    spec = svc.setdefault("spec", {})
    stype = spec.get("type", "ClusterIP")
    me = (svc["metadata"].get("namespace", "default"), svc["metadata"]["name"])
    errs: list[FieldError] = []
    if stype != "ExternalName":
        requested = spec.get("clusterIP")
        if requested == "None":
            spec["clusterIPs"] = ["None"]
        elif requested:
            if requested in _used_ips(store, exclude=me):
                errs.append(FieldError("spec.clusterIPs", f"Invalid value: {go_value([requested])}: failed to allocate "
                                                          f"IP {requested}: provided IP is already allocated", INVALID))
            spec["clusterIPs"] = [requested]
        else:
            ip = allocate_cluster_ip(store, svc, service_cidr, _used_ips(store, exclude=me))
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
    if stype in ("NodePort", "LoadBalancer") and spec.get("allocateLoadBalancerNodePorts", True):
        used = _used_node_ports(store, exclude=me)
        for i, p in enumerate(spec.get("ports") or []):
            np_ = p.get("nodePort")
            if np_:
                if np_ in used:
                    errs.append(FieldError(f"spec.ports[{i}].nodePort",
                                           f"Invalid value: {np_}: provided port is already allocated", INVALID))
                used.add(np_)
            else:
                np_ = allocate_node_port(store, svc, used, salt=f"/{i}")
                p["nodePort"] = np_
                used.add(np_)
    if errs:
        raise InvalidObject.from_causes("Service", svc["metadata"]["name"], errs)
    return svc


class ServiceIPController(Controller):
    """Fills in clusterIP/nodePorts of Services stored without them."""

    name = "service-ip"

    def sync(self) -> None:
        for svc in sorted(self.store.list("Service"), key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            spec = svc.get("spec") or {}
            stype = spec.get("type", "ClusterIP")
            if stype == "ExternalName":
                continue
            missing_ip = not spec.get("clusterIP") or not spec.get("clusterIPs")
            missing_np = stype in ("NodePort", "LoadBalancer") and any(not p.get("nodePort") for p in spec.get("ports") or [])
            if missing_ip or missing_np:
                try:
                    new = assign_service_addresses(self.store, svc, self.ctx.service_cidr)
                except InvalidObject:
                    continue
                if new != svc:
                    self.store.update(new)
