"""Hubble's gRPC servers: `observer.Observer`, `peer.Peer` and `grpc.health.v1.Health`.

What the agent serves on :4244 / unix:///var/run/cilium/hubble.sock and hubble-relay on
:4245, backed by any `FlowSource` (a node's LocalObserver, the Relay, a file of flows...).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from ..types import FlowSource
from . import convert
from .gen.observer import observer_pb2, observer_pb2_grpc
from .gen.peer import peer_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_VERSION = "1.19.4"  # the Cilium/Hubble release this lab reproduces
OBSERVER_HEALTH_SERVICE = "hubble.server.Observer"
PEER_POLL_INTERVAL = 1.0


@dataclass
class ServerTLS:
    """Server certificate (PEM files); with `client_ca_files` clients must present a cert (mTLS)."""

    cert_file: str
    key_file: str
    client_ca_files: tuple[str, ...] = ()

    def credentials(self) -> grpc.ServerCredentials:
        cert = Path(self.cert_file).read_bytes()
        key = Path(self.key_file).read_bytes()
        ca = b"".join(Path(f).read_bytes() for f in self.client_ca_files) or None
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)


def _abort(context: grpc.ServicerContext, err: Exception):
    if isinstance(err, ValueError):  # FilterError included
        code = grpc.StatusCode.INVALID_ARGUMENT
    elif isinstance(err, NotImplementedError):
        code = grpc.StatusCode.UNIMPLEMENTED
    else:
        log.exception("hubble gRPC handler failed")
        code = grpc.StatusCode.UNKNOWN
    context.abort(code, str(err) or type(err).__name__)


class ObserverServicer(observer_pb2_grpc.ObserverServicer):
    def __init__(self, source: FlowSource, version: str = DEFAULT_VERSION, relay: bool = False) -> None:
        self.source = source
        self.metadata = (("hubble-relay-version" if relay else "hubble-server-version", version),)

    def _header(self, context: grpc.ServicerContext) -> None:
        context.send_initial_metadata(self.metadata)

    def _stream(self, context: grpc.ServicerContext, method: str, request) -> Iterator[dict] | None:
        """Call source.<method>(request[, stop=Event]); the Event is set when the RPC ends."""
        fn = getattr(self.source, method, None)
        if fn is None:
            return None
        stop = threading.Event()
        context.add_callback(stop.set)
        try:
            takes_stop = "stop" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            takes_stop = False
        events = iter(fn(request, stop=stop) if takes_stop else fn(request))
        stopper = getattr(events, "stop", None)
        if callable(stopper):
            context.add_callback(stopper)
        return events

    @staticmethod
    def _wait_cancelled(context: grpc.ServicerContext) -> None:
        done = threading.Event()
        context.add_callback(done.set)
        while context.is_active() and not done.wait(0.5):
            pass

    def GetFlows(self, request, context):
        self._header(context)
        if request.first and request.follow:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first cannot be specified with follow")
        paths = list(request.field_mask.paths)
        events = None
        try:
            mask = convert.compile_field_mask(paths)  # validates; None = no mask
            req = convert.proto_to_request(request)
            events = self._stream(context, "get_flows", req)
            if events is None:
                return
            to_proto = convert.response_encoder()
            is_active = context.is_active
            for ev in events:
                if mask is not None and "flow" in ev:
                    flow = mask(ev["flow"])
                    # like Hubble: the envelope's time/node_name come from the masked flow
                    ev = {"flow": flow, "node_name": flow.get("node_name", ""), "time": flow.get("time")}
                    if ev["time"] is None:
                        del ev["time"]
                yield to_proto(ev)
                if not is_active():
                    break
        except Exception as err:  # noqa: BLE001 - every failure becomes a gRPC status
            _abort(context, err)
        finally:
            if hasattr(events, "close"):
                try:
                    events.close()
                except ValueError:  # generator still running in another thread
                    pass

    def _events(self, request, context, method: str, response_cls, key: str):
        self._header(context)
        if request.first and request.follow:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first cannot be specified with follow")
        try:
            events = self._stream(context, method, convert.message_to_dict(request))
            if events is None:
                if request.follow:
                    self._wait_cancelled(context)
                return
            for ev in events:
                yield convert.dict_to_message(ev if key in ev else {key: ev}, response_cls, strict=False)
                if not context.is_active():
                    break
        except Exception as err:  # noqa: BLE001
            _abort(context, err)

    def GetAgentEvents(self, request, context):
        yield from self._events(request, context, "get_agent_events", observer_pb2.GetAgentEventsResponse,
                                "agent_event")

    def GetDebugEvents(self, request, context):
        yield from self._events(request, context, "get_debug_events", observer_pb2.GetDebugEventsResponse,
                                "debug_event")

    def GetNodes(self, request, context):
        self._header(context)
        try:
            return convert.nodes_to_proto(self.source.get_nodes())
        except Exception as err:  # noqa: BLE001
            _abort(context, err)

    def GetNamespaces(self, request, context):
        self._header(context)
        try:
            return convert.namespaces_to_proto(self.source.get_namespaces())
        except Exception as err:  # noqa: BLE001
            _abort(context, err)

    def ServerStatus(self, request, context):
        self._header(context)
        try:
            return convert.server_status_to_proto(self.source.server_status())
        except Exception as err:  # noqa: BLE001
            _abort(context, err)


class PeerServicer(peer_pb2_grpc.PeerServicer):
    """Notify: one PEER_ADDED per node, then PEER_ADDED/UPDATED/DELETED as `nodes()` changes."""

    def __init__(self, nodes: Callable[[], list[dict]], poll_interval: float = PEER_POLL_INTERVAL) -> None:
        self.nodes = nodes
        self.poll_interval = poll_interval

    def Notify(self, request, context):
        done = threading.Event()
        context.add_callback(done.set)
        known: dict[str, dict] = {}
        while context.is_active():
            current = {node["name"]: node for node in self.nodes()}
            for name, node in current.items():
                if name not in known:
                    yield convert.peer_to_proto(node, "PEER_ADDED")
                elif known[name] != node:
                    yield convert.peer_to_proto(node, "PEER_UPDATED")
            for name, node in known.items():
                if name not in current:
                    yield convert.peer_to_proto(node, "PEER_DELETED")
            known = current
            if done.wait(self.poll_interval):
                return


def _bind(server: grpc.Server, address: str, tls: ServerTLS | dict | None) -> tuple[str, int | None]:
    """Bind `host:port` (empty host = 127.0.0.1, port 0 = any free port) or `unix:///path`."""
    if isinstance(tls, dict):
        tls = ServerTLS(**tls)
    if address.startswith("unix:"):
        target = address
    else:
        host, _, port = address.rpartition(":")
        target = f"{host or '127.0.0.1'}:{port or 0}"
    bound = server.add_secure_port(target, tls.credentials()) if tls else server.add_insecure_port(target)
    if address.startswith("unix:"):
        return address, None
    if not bound:
        raise OSError(f"failed to listen on {target}")
    return f"{target.rpartition(':')[0]}:{bound}", bound


def _new_server(max_workers: int) -> grpc.Server:
    return grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="hubble-grpc"),
                       options=[("grpc.so_reuseport", 0)])


def _finish(server: grpc.Server, address: str, tls) -> grpc.Server:
    addr, port = _bind(server, address, tls)
    server.start()
    server.address = addr  # "127.0.0.1:41235" or "unix:///path"
    server.port = port  # the bound TCP port (None for unix sockets)
    return server


def add_health(server: grpc.Server, services: tuple[str, ...] = ("", OBSERVER_HEALTH_SERVICE)):
    servicer = health.HealthServicer()
    for name in services:
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    return servicer


def serve_observer(source: FlowSource, address: str = "127.0.0.1:0", *, tls: ServerTLS | dict | None = None,
                   health_service: str = OBSERVER_HEALTH_SERVICE, version: str = DEFAULT_VERSION,
                   relay: bool = False, peers: Callable[[], list[dict]] | None = None,
                   max_workers: int = 32) -> grpc.Server:
    """Start an `observer.Observer` (+ Health, + `peer.Peer` when `peers` is given, as the agent
    does on :4244) on `address`. The returned (started) server has `.port` and `.address`."""
    server = _new_server(max_workers)
    observer_pb2_grpc.add_ObserverServicer_to_server(ObserverServicer(source, version, relay), server)
    add_health(server, ("", health_service))
    if peers is not None:
        peer_pb2_grpc.add_PeerServicer_to_server(PeerServicer(peers), server)
    return _finish(server, address, tls)


def serve_peer(nodes: Callable[[], list[dict]], address: str = "127.0.0.1:0", *,
               tls: ServerTLS | dict | None = None, poll_interval: float = PEER_POLL_INTERVAL,
               max_workers: int = 8) -> grpc.Server:
    """Start a `peer.Peer` service (what the `hubble-peer` Service exposes)."""
    server = _new_server(max_workers)
    peer_pb2_grpc.add_PeerServicer_to_server(PeerServicer(nodes, poll_interval), server)
    add_health(server, ("",))
    return _finish(server, address, tls)
