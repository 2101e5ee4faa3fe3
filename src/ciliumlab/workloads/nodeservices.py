"""What listens on a node's own addresses: the kube-apiserver (control plane) and the kubelet.

Pods reach these through the `kubernetes` Service (10.96.0.1:443 → 192.168.10.100:6443) or a
node IP, so policies with `toEntities: [kube-apiserver]` / `host` / `remote-node` have a real
server to allow or deny. Anonymous requests get what a kubeadm cluster answers: the public
`/version`, `/healthz`, `/livez`, `/readyz` of the API server, 403 for everything else; 401
from the kubelet.
"""

from __future__ import annotations

import json

from .images.httpserver import ServerBehaviour, go_response, split_target
from .net import HttpRequest, HttpResponse, ServerContext

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz")


class KubeAPIServer(ServerBehaviour):
    name = "kube-apiserver"
    tcp_ports = frozenset({6443})

    def __init__(self, version: str = "v1.33.2", *, now=None) -> None:
        super().__init__("registry.k8s.io/kube-apiserver:" + version, {}, now=now)
        self.version = version

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        now = self.now()
        if path == "/version":
            major, minor = self.version.lstrip("v").split(".")[:2]
            body = json.dumps({"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
                               "minCompatibilityMajor": major, "minCompatibilityMinor": str(int(minor) - 1),
                               "gitVersion": self.version, "gitTreeState": "clean",
                               "buildDate": "2025-06-17T18:30:54Z", "goVersion": "go1.24.4", "compiler": "gc",
                               "platform": "linux/amd64"}, indent=2).encode()
            return go_response(200, body, now=now, method=request.method,
                               headers=[("Audit-Id", _audit_id(ctx)), ("Cache-Control", "no-cache, private"),
                                        ("Content-Type", "application/json")])
        if path in PUBLIC_PATHS:
            return go_response(200, b"ok", now=now, method=request.method,
                               headers=[("Audit-Id", _audit_id(ctx)), ("Cache-Control", "no-cache, private"),
                                        ("Content-Type", "text/plain; charset=utf-8"),
                                        ("X-Content-Type-Options", "nosniff")])
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": f'forbidden: User "system:anonymous" cannot {request.method.lower()} path "{path}"',
                  "reason": "Forbidden", "details": {}, "code": 403}
        return go_response(403, json.dumps(status, indent=2).encode() + b"\n", now=now, method=request.method,
                           headers=[("Audit-Id", _audit_id(ctx)), ("Cache-Control", "no-cache, private"),
                                    ("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")])


class Kubelet(ServerBehaviour):
    name = "kubelet"
    tcp_ports = frozenset({10250})

    def __init__(self, *, now=None) -> None:
        super().__init__("kubelet", {}, now=now)

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        return go_response(401, b"Unauthorized", now=self.now(), method=request.method,
                           headers=[("Content-Type", "text/plain; charset=utf-8")])


class MetricsServer(ServerBehaviour):
    """A Prometheus endpoint on the node (:9962 agent, :9963 operator, :9965 Hubble): `GET /metrics`
    answers what `expose(accept)` returns; connections are refused while cilium-config disables it."""

    name = "metrics"

    def __init__(self, process: str, expose, *, enabled=lambda: True, now=None) -> None:
        super().__init__(process, {}, now=now)
        self._expose = expose  # (accept header) -> (body, content type) | None
        self.accepting = enabled  # nothing listens while cilium-config disables the endpoint

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        found = self._expose(request.header("Accept") or "") if path == "/metrics" else None
        if found is None:
            return go_response(404, b"404 page not found\n", now=self.now(), method=request.method,
                               headers=[("Content-Type", "text/plain; charset=utf-8"),
                                        ("X-Content-Type-Options", "nosniff")])
        body, content_type = found
        return go_response(200, body, now=self.now(), method=request.method, headers=[("Content-Type", content_type)])


def node_listeners(control_plane: bool, k8s_version: str, now=None) -> dict[tuple[str, int], ServerBehaviour]:
    kubelet = Kubelet(now=now)
    listeners: dict[tuple[str, int], ServerBehaviour] = {("TCP", 10250): kubelet}
    if control_plane:
        listeners[("TCP", 6443)] = KubeAPIServer(k8s_version, now=now)
    return listeners


def _audit_id(ctx: ServerContext) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.remote_ip}:{ctx.remote_port}"))
