"""Service load-balancing (kube-proxy replacement): frontends → backends, from Services and
EndpointSlices.

Cilium translates at the socket (connect/sendmsg) on the client's node and picks a backend
at random among the active ones (the default `random` algorithm); the choice is per
connection, never per request and never round-robin.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PROTO_NUM = {"TCP": 6, "UDP": 17, "SCTP": 132}


@dataclass(slots=True)
class Backend:
    ip: str
    port: int
    node: str = ""
    ready: bool = True
    pod: str = ""  # namespace/name
    id: int = 0


@dataclass(slots=True)
class Frontend:
    ip: str
    port: int
    proto: int
    service: str
    namespace: str
    type: str  # ClusterIP | NodePort | LocalRedirect ...
    id: int = 0
    backends: list[Backend] = field(default_factory=list)
    local_only: bool = False  # internalTrafficPolicy: Local
    port_name: str = ""


class ServiceLB:
    def __init__(self, seed: str = "lb") -> None:
        self._frontends: dict[tuple[str, int, int], Frontend] = {}
        self._nodeports: dict[tuple[int, int], Frontend] = {}  # (port, proto) -> template frontend
        self._ids: dict[tuple[str, str, int, int, str], int] = {}
        self._backend_ids: dict[tuple[str, int], int] = {}
        self._rng = random.Random(seed)

    def rebuild(self, services: list[dict], slices: list[dict], node_ips: dict[str, list[str]]) -> None:
        """Recompute every frontend from the store's Services and EndpointSlices."""
        by_service: dict[tuple[str, str], list[dict]] = {}
        for es in slices:
            meta = es.get("metadata", {})
            svc = (meta.get("labels") or {}).get("kubernetes.io/service-name")
            if svc:
                by_service.setdefault((meta.get("namespace", "default"), svc), []).append(es)
        frontends: dict[tuple[str, int, int], Frontend] = {}
        nodeports: dict[tuple[int, int], Frontend] = {}
        for svc in sorted(services, key=lambda s: (s["metadata"].get("creationTimestamp", ""), s["metadata"]["name"])):
            self._add_service(svc, by_service.get((svc["metadata"].get("namespace", "default"), svc["metadata"]["name"]), []),
                              node_ips, frontends, nodeports)
        self._frontends = frontends
        self._nodeports = nodeports

    def _add_service(self, svc: dict, slices: list[dict], node_ips: dict[str, list[str]],
                     frontends: dict, nodeports: dict) -> None:
        meta, spec = svc["metadata"], svc.get("spec", {})
        cluster_ip = spec.get("clusterIP")
        if not cluster_ip or cluster_ip == "None" or spec.get("type") == "ExternalName":
            return
        local = spec.get("internalTrafficPolicy") == "Local"
        for port in spec.get("ports") or []:
            proto = PROTO_NUM.get(port.get("protocol", "TCP"), 6)
            backends = self._backends_for(port, slices)
            fe = self._frontend(cluster_ip, port["port"], proto, meta, "ClusterIP", backends, local, port.get("name", ""))
            frontends[(cluster_ip, port["port"], proto)] = fe
            if spec.get("type") in ("NodePort", "LoadBalancer") and port.get("nodePort"):
                npt = port["nodePort"]
                for node_addrs in node_ips.values():
                    for ip in node_addrs:
                        frontends[(ip, npt, proto)] = self._frontend(ip, npt, proto, meta, "NodePort", backends, False,
                                                                     port.get("name", ""))
                nodeports[(npt, proto)] = self._frontend("0.0.0.0", npt, proto, meta, "NodePort", backends, False,
                                                         port.get("name", ""))

    def _frontend(self, ip, port, proto, meta, kind, backends, local, port_name) -> Frontend:
        key = (meta.get("namespace", "default"), meta["name"], port, proto, ip)
        if key not in self._ids:
            self._ids[key] = len(self._ids) + 1
        return Frontend(ip, port, proto, meta["name"], meta.get("namespace", "default"), kind, self._ids[key],
                        backends, local, port_name)

    def _backends_for(self, port: dict, slices: list[dict]) -> list[Backend]:
        backends: list[Backend] = []
        name = port.get("name", "")
        for es in slices:
            es_port = next((p for p in es.get("ports") or [] if (p.get("name") or "") == name), None)
            if es_port is None or es_port.get("port") is None:
                continue
            for ep in es.get("endpoints") or []:
                cond = ep.get("conditions") or {}
                ref = ep.get("targetRef") or {}
                for addr in ep.get("addresses") or []:
                    bkey = (addr, es_port["port"])
                    if bkey not in self._backend_ids:
                        self._backend_ids[bkey] = len(self._backend_ids) + 1
                    backends.append(Backend(addr, es_port["port"], ep.get("nodeName", ""),
                                            cond.get("ready", True) is not False,
                                            f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else "",
                                            self._backend_ids[bkey]))
        return backends

    # -- datapath use -------------------------------------------------------------------------
    def lookup(self, ip: str, port: int, proto: int) -> Frontend | None:
        return self._frontends.get((ip, port, proto))

    def select(self, frontend: Frontend, client_node: str) -> Backend | None:
        """Pick a backend at random among the active ones (Cilium's default algorithm)."""
        active = [b for b in frontend.backends if b.ready]
        if frontend.local_only:
            active = [b for b in active if b.node == client_node]
        if not active:
            return None
        return active[self._rng.randrange(len(active))] if len(active) > 1 else active[0]

    def frontends(self) -> list[Frontend]:
        return sorted(self._frontends.values(), key=lambda f: f.id)

    def is_frontend_ip(self, ip: str) -> bool:
        return any(k[0] == ip for k in self._frontends)
