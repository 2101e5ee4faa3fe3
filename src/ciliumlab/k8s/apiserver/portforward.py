"""`pods/portforward`: SPDY/3.1 (`portforward.k8s.io`) tunnelled in WebSocket, shared/spec/kubeapi §10.

kubectl resolves `svc/x` or `deploy/x` to a pod and a container port itself, then opens one
WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`) for the whole session. Every local TCP
connection becomes a pair of SPDY streams sharing a `requestid`: `streamtype: error` (we write a
message there and FIN it to report failure; an empty FIN means success) and `streamtype: data`
(the TCP bytes both ways). We answer each SYN_STREAM with a SYN_REPLY.

Where the bytes go:

- `app[PORT_FORWARD_TARGETS][(namespace, pod_or_service, port)] = (host, port)`: a raw TCP pipe
  to a real local listener. `ciliumlab up` registers the processes it runs for the pod (Hubble
  Relay's gRPC, Hubble UI) here. `pod_or_service` is the pod's name or the name of a Service in
  its namespace that selects it; `port` is the pod's (container) port, the one kubectl prints in
  `Forwarding from 127.0.0.1:4245 -> 4245`.
- anything else is HTTP/1.1 to the pod's listener through the lab: each request parsed off the
  stream is sent with `lab.node_net(<pod's node>).http(pod_ip, port, …)` — from the node, as the
  kubelet's connection to the pod would be — and the response written back as raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ...workloads.net import (
    ConnectionRefused,
    ConnectionReset,
    ConnectTimeout,
    HostUnreachable,
    HttpResponse,
    NetError,
    OperationTimeout,
)
from . import spdy
from .context import ApiContext
from .errors import bad_request, not_found
from .httpwire import HttpParseError, RequestParser, render_response
from .resources import by_path

log = logging.getLogger(__name__)

PROTOCOL = "SPDY/3.1+portforward.k8s.io"

PortForwardKey = tuple[str, str, int]
NODE_KEY = "<node>"  # `(NODE_KEY, node, port)`: what listens on a node, for host-network pods
PORT_FORWARD_TARGETS: web.AppKey[dict[PortForwardKey, tuple[str, int]]] = web.AppKey("port_forward_targets", dict)

#: Seconds a forwarded HTTP request may take in the lab before we give up on it.
HTTP_TIMEOUT = 30.0


@dataclass
class ForwardTarget:
    """(Resolved under the lab lock.) Where a port-forward session's connections go."""

    namespace: str
    pod: str
    uid: str
    node: str
    ip: str
    services: list[tuple[str, set[int]]] = field(default_factory=list)  # (service, container ports it targets)
    host_network: bool = False

    def sandbox_id(self) -> str:
        """A stable stand-in for the pod sandbox's container ID the kubelet names in errors."""
        return hashlib.sha256(f"sandbox/{self.uid}".encode()).hexdigest()

    def netns(self) -> str:
        h = hashlib.sha256(f"netns/{self.uid}".encode()).hexdigest()
        return f"/var/run/netns/cni-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def refused(self, port: int) -> str:
        """containerd's message for a port nothing listens on (kubelet `error forwarding port`)."""
        ns = self.netns()
        return (f"error forwarding port {port} to pod {self.sandbox_id()}, uid : failed to execute portforward in "
                f'network namespace "{ns}": failed to connect to localhost:{port} inside namespace '
                f'"{self.sandbox_id()}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused '
                f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused ")

    def failed(self, port: int, why: str) -> str:
        return f"error forwarding port {port} to pod {self.sandbox_id()}, uid : {why}"


def _port_number(port: Any, containers: list[dict]) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for c in containers:
        for p in c.get("ports") or []:
            if p.get("name") == port:
                return int(p.get("containerPort", 0))
    return None


def resolve_target(lab: Any, namespace: str, name: str) -> ForwardTarget:
    pod = lab.store.get("Pod", namespace, name)
    if pod is None:
        res = by_path("", "v1", "pods")
        assert res is not None
        raise not_found(res.info, name)
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    if status.get("phase") != "Running" or not status.get("podIP"):
        raise bad_request(f"pod {name} is not running (phase {status.get('phase', 'Unknown')})")
    labels = meta.get("labels") or {}
    containers = spec.get("containers") or []
    services = []
    for svc in lab.store.list("Service", namespace):
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        ports = set()
        for p in (svc.get("spec") or {}).get("ports") or []:
            n = _port_number(p.get("targetPort", p.get("port")), containers)
            if n is not None:
                ports.add(n)
        services.append((svc["metadata"]["name"], ports))
    return ForwardTarget(namespace, name, str(meta.get("uid", "")), str(spec.get("nodeName", "")),
                         str(status["podIP"]), services, bool(spec.get("hostNetwork")))


def raw_target(targets: dict[PortForwardKey, tuple[str, int]], target: ForwardTarget,
               port: int) -> tuple[str, int] | None:
    """The local address registered for this pod's port: by pod name, then by a selecting Service;
    a host-network pod shares its node's sockets (key `(NODE_KEY, node, port)`)."""
    found = targets.get((target.namespace, target.pod, port))
    if found is not None:
        return found
    if target.host_network and (NODE_KEY, target.node, port) in targets:
        return targets[(NODE_KEY, target.node, port)]
    for svc, ports in target.services:
        if port in ports and (target.namespace, svc, port) in targets:
            return targets[(target.namespace, svc, port)]
    return None


# -- the SPDY session -------------------------------------------------------------------------
class Stream:
    def __init__(self, sid: int, headers: dict[str, str]) -> None:
        self.sid = sid
        self.headers = headers
        self.kind = headers.get("streamtype", "")
        self.request_id = headers.get("requestid", "")
        self.port = headers.get("port", "")
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: the peer finished sending
        self.reset = False
        self.local_fin = False


class PortForwardSession:
    def __init__(self, ctx: ApiContext, ws: web.WebSocketResponse, target: ForwardTarget,
                 targets: dict[PortForwardKey, tuple[str, int]]) -> None:
        self.ctx = ctx
        self.ws = ws
        self.target = target
        self.targets = targets
        self.codec = spdy.HeaderCodec()
        self.reader = spdy.FrameReader(self.codec)
        self.streams: dict[int, Stream] = {}
        self.pairs: dict[str, dict[str, Stream]] = {}
        self.tasks: set[asyncio.Task] = set()
        self.send_lock = asyncio.Lock()
        self.closed = False

    async def send(self, make: Callable[[], bytes]) -> None:
        """Frames are built under the send lock: header compression state follows wire order."""
        if self.closed:
            return
        async with self.send_lock:
            try:
                await self.ws.send_bytes(make())
            except Exception:  # noqa: BLE001 - the client is gone
                self.closed = True

    async def send_data(self, stream: Stream, data: bytes, *, fin: bool = False) -> None:
        if stream.reset or stream.local_fin:
            return
        for i in range(0, len(data), spdy.MAX_DATA):
            chunk = data[i:i + spdy.MAX_DATA]
            last = fin and i + spdy.MAX_DATA >= len(data)
            await self.send(lambda c=chunk, f=last: spdy.data_frame(stream.sid, c, fin=f))
        if fin:
            if not data:
                await self.send(lambda: spdy.data_frame(stream.sid, b"", fin=True))
            stream.local_fin = True

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                for frame in self.reader.feed(bytes(msg.data)):
                    await self._frame(frame)
        except spdy.SpdyError as exc:
            log.warning("ciliumlab apiserver: port-forward: %s", exc)
        finally:
            self.closed = True
            for s in self.streams.values():
                s.inbox.put_nowait(None)
            for t in list(self.tasks):
                t.cancel()
            for t in list(self.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _frame(self, frame: spdy.Frame) -> None:
        if frame.ctype is None:
            stream = self.streams.get(frame.stream_id)
            if stream is None:
                return
            if frame.payload:
                stream.inbox.put_nowait(frame.payload)
            if frame.fin:
                stream.inbox.put_nowait(None)
            return
        if frame.ctype == spdy.SYN_STREAM:
            stream = Stream(frame.stream_id, frame.headers)
            self.streams[stream.sid] = stream
            await self.send(lambda: spdy.syn_reply(self.codec, stream.sid))
            if frame.fin:
                stream.inbox.put_nowait(None)
            pair = self.pairs.setdefault(stream.request_id, {})
            pair[stream.kind] = stream
            if "error" in pair and "data" in pair:
                task = asyncio.create_task(self._connection(pair["error"], pair["data"]))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        elif frame.ctype == spdy.RST_STREAM:
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                stream.reset = True
                stream.inbox.put_nowait(None)
        elif frame.ctype == spdy.PING:
            await self.send(lambda: spdy.ping(frame.status))
        elif frame.ctype == spdy.GOAWAY:
            self.closed = True
        # SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do

    async def _connection(self, error: Stream, data: Stream) -> None:
        """One forwarded TCP connection."""
        try:
            port = int(data.port or error.port)
        except ValueError:
            await self.send_data(error, f"invalid port {data.port!r}".encode(), fin=True)
            await self.send_data(data, b"", fin=True)
            return
        message = ""
        try:
            addr = raw_target(self.targets, self.target, port)
            if addr is not None:
                message = await self._pipe(data, addr, port)
            elif not await self.ctx.gate.run(self._listens, port):
                message = self.target.refused(port)  # the kubelet dials at once, before any byte
            else:
                message = await self._http(data, port)
        finally:
            if message:
                await self.send_data(error, message.encode())
            await self.send_data(data, b"", fin=True)
            await self.send_data(error, b"", fin=True)
            for s in (error, data):
                self.streams.pop(s.sid, None)
            self.pairs.pop(data.request_id, None)

    async def _pipe(self, data: Stream, addr: tuple[str, int], port: int) -> str:
        """A raw byte pipe to a local listener (gRPC and the like)."""
        try:
            reader, writer = await asyncio.open_connection(*addr)
        except OSError as exc:
            return self.target.failed(port, f"failed to connect to {addr[0]}:{addr[1]}: {exc.strerror or exc}")

        async def upstream() -> None:
            while (chunk := await data.inbox.get()) is not None:
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        up = asyncio.create_task(upstream())
        try:
            while chunk := await reader.read(65536):
                await self.send_data(data, chunk)
                if data.reset or self.closed:
                    break
        except OSError:
            pass
        finally:
            up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await up
            writer.close()
        return ""

    async def _http(self, data: Stream, port: int) -> str:
        """HTTP/1.1 requests off the stream, each answered by the pod's server through the lab."""
        parser = RequestParser()
        while True:
            request = parser.next_request()
            while request is None:
                chunk = await data.inbox.get()
                if chunk is None:
                    return ""
                try:
                    parser.feed(chunk)
                    request = parser.next_request()
                except HttpParseError as exc:
                    return self.target.failed(port, f"this lab forwards only HTTP/1.1 to port {port} ({exc})")
            try:
                response = await self._exchange(port, request)
            except ConnectionRefused:
                return self.target.refused(port)
            except (ConnectTimeout, OperationTimeout):
                return self.target.failed(port, f"dial tcp4 127.0.0.1:{port}: i/o timeout")
            except (HostUnreachable, ConnectionReset) as exc:
                return self.target.failed(port, str(exc) or type(exc).__name__)
            except NetError as exc:
                return self.target.failed(port, str(exc) or type(exc).__name__)
            close = parser.wants_close(request)
            await self.send_data(data, render_response(response, request, close=close))
            if close or data.reset:
                return ""

    def _listens(self, port: int) -> bool:
        """(Under the lab lock.) Whether anything listens on the pod's port; a pod without a Cilium
        endpoint (host network) is left to the request itself."""
        endpoint = self.ctx.lab.fabric.endpoints.get(self.target.ip)
        return endpoint is None or bool(endpoint.listens("TCP", port))

    async def _exchange(self, port: int, request) -> HttpResponse:
        def call() -> HttpResponse:
            net = self.ctx.lab.node_net(self.target.node)
            return net.http(self.target.ip, port, request, connect_timeout=5.0, max_time=HTTP_TIMEOUT).response

        return await self.ctx.gate.run(call)


async def handle_portforward(request: web.Request, ctx: ApiContext, namespace: str, pod: str) -> web.StreamResponse:
    """`GET /api/v1/namespaces/{ns}/pods/{pod}/portforward` (WebSocket, SPDY inside)."""
    target = await ctx.gate.run(resolve_target, ctx.lab, namespace, pod)
    ws = web.WebSocketResponse(protocols=(PROTOCOL,), max_msg_size=0, timeout=2.0)
    ready = ws.can_prepare(request)
    if not ready.ok or ready.protocol != PROTOCOL:
        raise bad_request(f"Upgrade request required: pods/portforward is served over WebSocket "
                          f"(Sec-WebSocket-Protocol: {PROTOCOL})")
    await ws.prepare(request)
    targets = request.app.get(PORT_FORWARD_TARGETS)
    await PortForwardSession(ctx, ws, target, targets if targets is not None else {}).run()
    return ws
