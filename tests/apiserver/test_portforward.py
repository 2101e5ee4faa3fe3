"""`kubectl port-forward` against the served lab: SPDY/3.1 in WebSocket (shared/spec/kubeapi §10).

HTTP through the forwarded port reaches the pod's server through the lab's datapath; a port
registered in `app[PORT_FORWARD_TARGETS]` is a raw byte pipe to a real local listener.
"""

from __future__ import annotations

import http.client
import select
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from ciliumlab.k8s.apiserver import PORT_FORWARD_TARGETS
from tests.apiserver.kube import Kubectl, LabServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Forward:
    def __init__(self, kubectl: Kubectl, *args: str) -> None:
        self.port = free_port()
        spec = args[-1].replace("LOCAL", str(self.port))
        self.proc = kubectl.popen("port-forward", "--address", "127.0.0.1", *args[:-1], spec)
        self.first = self._line(15)
        assert self.first.startswith(f"Forwarding from 127.0.0.1:{self.port} -> "), self.first

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"kubectl port-forward printed nothing: {self.stop()}"
        return self.proc.stdout.readline()

    def stop(self) -> tuple[str, str]:
        self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out, err


@pytest.fixture
def forward(skubectl: Kubectl):
    started: list[Forward] = []

    def start(*args: str) -> Forward:
        f = Forward(skubectl, *args)
        started.append(f)
        return f

    yield start
    for f in started:
        f.stop()


def deathstar_pod(kubectl: Kubectl) -> str:
    return kubectl.ok("get", "pods", "-l", "class=deathstar", "-o", "jsonpath={.items[0].metadata.name}")


def post_landing(port: int) -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/request-landing", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read().decode()


def test_port_forward_pod_http_post(forward, skubectl: Kubectl) -> None:
    pod = deathstar_pod(skubectl)
    f = forward(f"pod/{pod}", "LOCAL:80")
    assert f.first == f"Forwarding from 127.0.0.1:{f.port} -> 80\n"
    assert post_landing(f.port) == (200, "Ship landed\n")
    out, err = f.stop()
    assert "Handling connection for" in f.first + out


def test_port_forward_service_keeps_the_connection_alive(forward) -> None:
    f = forward("svc/deathstar", "LOCAL:80")
    conn = http.client.HTTPConnection("127.0.0.1", f.port, timeout=10)
    try:
        conn.request("GET", "/v1/")
        first = conn.getresponse()
        body = first.read().decode()
        assert first.status == 200 and first.getheader("Content-Length") == str(len(body))
        assert '"name": "Death Star"' in body
        conn.request("POST", "/v1/request-landing", body=b"")  # same TCP connection
        second = conn.getresponse()
        assert (second.status, second.read()) == (200, b"Ship landed\n")
        conn.request("HEAD", "/v1/")  # no body follows, whatever Content-Length says
        third = conn.getresponse()
        assert third.read() == b""
        conn.request("GET", "/v1/")
        assert conn.getresponse().read().decode() == body
    finally:
        conn.close()
    # a second forwarded connection gets its own stream pair
    assert post_landing(f.port) == (200, "Ship landed\n")


def test_port_forward_closed_port_reports_connection_refused(forward, skubectl: Kubectl) -> None:
    f = forward("pod/xwing", "LOCAL:81")
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(f"http://127.0.0.1:{f.port}/", timeout=10)
    time.sleep(0.3)
    _, err = f.stop()
    assert f"an error occurred forwarding {f.port} -> 81: error forwarding port 81 to pod " in err
    assert "dial tcp4 127.0.0.1:81: connect: connection refused" in err


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data.upper())


def test_port_forward_registered_target_is_a_raw_pipe(forward, stream_server: LabServer) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    targets = stream_server.app[PORT_FORWARD_TARGETS]
    targets[("kube-system", "hubble-relay", 4245)] = server.server_address
    try:
        f = forward("-n", "kube-system", "svc/hubble-relay", "LOCAL:80")
        assert f.first == f"Forwarding from 127.0.0.1:{f.port} -> 4245\n"
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # what gRPC sends first
        payload = preface + bytes(range(256)) * 300  # binary, larger than one SPDY DATA frame
        with socket.create_connection(("127.0.0.1", f.port), timeout=10) as s:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                assert chunk, f"connection closed after {len(got)} bytes"
                got += chunk
        assert got == payload.upper()
    finally:
        del targets[("kube-system", "hubble-relay", 4245)]
        server.shutdown()
        server.server_close()
