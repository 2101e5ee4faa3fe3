"""A `FlowSource` over gRPC: talks to a Hubble server (agent :4244 / unix socket) or to
hubble-relay (:4245) — ours or the real ones, the protocol is the same."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import grpc.experimental
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..types import FilterError, FlowsRequest
from . import convert
from .gen.observer import observer_pb2, observer_pb2_grpc
from .gen.peer import peer_pb2, peer_pb2_grpc

DEFAULT_REQUEST_TIMEOUT = 12.0  # the hubble CLI's unary request timeout
# Server-streaming calls (GetFlows, Notify, ...) read their completion queue on the calling thread
# instead of handing every message over from the channel's spin thread: two thread switches less
# per streamed flow (~15-20% more flows/s over loopback). Cancelling from another thread still works.
_CHANNEL_OPTIONS = [(grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)]
VERSION_KEYS = ("hubble-relay-version", "hubble-server-version")


def _go_code(code: grpc.StatusCode) -> str:
    name = code.name
    return "OK" if name == "OK" else "".join(part.capitalize() for part in name.split("_"))


class RPCError(Exception):
    """A failed call, printed like grpc-go: `rpc error: code = InvalidArgument desc = ...`."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details or ""
        super().__init__(f"rpc error: code = {_go_code(code)} desc = {self.details}")


class InvalidArgumentError(RPCError, FilterError):
    """The server rejected the request (bad filter, first with follow, bad field mask)."""


def _rpc_error(err: grpc.RpcError) -> RPCError:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = err.details() if hasattr(err, "details") else str(err)
    cls = InvalidArgumentError if code == grpc.StatusCode.INVALID_ARGUMENT else RPCError
    return cls(code, details)


def _version_of(metadata) -> str:
    for key, value in metadata or ():
        if key in VERSION_KEYS:
            return value
    return ""


class FlowStream:
    """Iterator of GetFlowsResponse dicts; `stop()`/`cancel()`/`close()` cancel the RPC."""

    def __init__(self, call, client: HubbleClient) -> None:
        self._call = call
        self._client = client
        self._to_dict = convert.response_decoder()

    def __iter__(self) -> FlowStream:
        return self

    def __next__(self) -> dict:
        try:
            msg = next(self._call)
        except StopIteration:
            self._client._note_version(self._call)
            raise
        except grpc.RpcError as err:
            self._client._note_version(self._call)
            if err.code() == grpc.StatusCode.CANCELLED and self._call.cancelled():
                raise StopIteration from None
            raise _rpc_error(err) from None
        if not self._client.server_version:
            self._client._note_version(self._call)
        return self._to_dict(msg)

    def stop(self) -> None:
        self._call.cancel()

    cancel = close = stop

    def __del__(self) -> None:  # an abandoned follow stream must not keep the server streaming
        try:
            self._call.cancel()
        except Exception:  # noqa: BLE001
            pass


def _insecure_root(host: str, port: int, timeout: float) -> tuple[bytes, str]:
    """tls-allow-insecure: trust whatever certificate the server presents (grpc-python cannot
    skip verification), using its first DNS SAN / CN as the expected name."""
    pem = ssl.get_server_certificate((host, port), timeout=timeout)
    name = host
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as fh:
        fh.write(pem)
        fh.flush()
        try:
            info = ssl._ssl._test_decode_cert(fh.name)  # noqa: SLF001
        except Exception:  # noqa: BLE001
            info = {}
    sans = [v for k, v in info.get("subjectAltName", ()) if k == "DNS"]
    cns = [v for rdn in info.get("subject", ()) for k, v in rdn if k == "commonName"]
    if sans or cns:
        name = (sans or cns)[0].replace("*.", "x.", 1)
    return pem.encode(), name


def parse_server(server: str) -> tuple[str, bool]:
    """`host:port` / `tls://host:port` / `unix:///path` -> (grpc target, tls forced)."""
    if server.startswith("tls://"):
        return server[len("tls://"):], True
    if server.startswith("http://"):
        return server[len("http://"):], False
    return server, False


class HubbleClient:
    """`FlowSource` backed by a gRPC channel to observer.Observer (+ Health, Peer)."""

    def __init__(self, channel: grpc.Channel, server: str = "", request_timeout: float = DEFAULT_REQUEST_TIMEOUT):
        self.channel = channel
        self.server = server
        self.request_timeout = request_timeout
        self.server_version = ""  # from the hubble-server-version / hubble-relay-version header
        self.observer = observer_pb2_grpc.ObserverStub(channel)
        self.health = health_pb2_grpc.HealthStub(channel)
        self.peer = peer_pb2_grpc.PeerStub(channel)

    def _note_version(self, call) -> None:
        if not self.server_version:
            try:
                self.server_version = _version_of(call.initial_metadata())
            except Exception:  # noqa: BLE001
                pass

    def _unary(self, method, request):
        try:
            response, call = method.with_call(request, timeout=self.request_timeout)
        except grpc.RpcError as err:
            raise _rpc_error(err) from None
        self._note_version(call)
        return response

    # -- FlowSource --------------------------------------------------------------------------------
    def get_flows(self, request: FlowsRequest) -> FlowStream:
        return FlowStream(self.observer.GetFlows(convert.request_to_proto(request)), self)

    def server_status(self) -> dict:
        return convert.message_to_dict(self._unary(self.observer.ServerStatus, observer_pb2.ServerStatusRequest()))

    def get_nodes(self) -> list[dict]:
        msg = self._unary(self.observer.GetNodes, observer_pb2.GetNodesRequest())
        return convert.message_to_dict(msg).get("nodes", [])

    def get_namespaces(self) -> list[dict]:
        msg = self._unary(self.observer.GetNamespaces, observer_pb2.GetNamespacesRequest())
        return convert.message_to_dict(msg).get("namespaces", [])

    # -- extras ----------------------------------------------------------------------------------
    def health_check(self, service: str = "hubble.server.Observer") -> str:
        """grpc.health.v1 status name (`SERVING`, `NOT_SERVING`, `SERVICE_UNKNOWN`, ...)."""
        msg = self._unary(self.health.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(msg.status)

    def get_agent_events(self, request: dict | None = None) -> Iterator[dict]:
        call = self.observer.GetAgentEvents(convert.dict_to_message(request or {}, observer_pb2.GetAgentEventsRequest))
        return (convert.message_to_dict(m) for m in call)

    def get_debug_events(self, request: dict | None = None) -> Iterator[dict]:
        call = self.observer.GetDebugEvents(convert.dict_to_message(request or {}, observer_pb2.GetDebugEventsRequest))
        return (convert.message_to_dict(m) for m in call)

    def peers(self) -> FlowStream:
        """peer.Peer/Notify as ChangeNotification dicts (cancel with `.stop()`)."""
        return _PeerStream(self.peer.Notify(peer_pb2.NotifyRequest()), self)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> HubbleClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _PeerStream(FlowStream):
    def __next__(self) -> dict:
        try:
            return convert.message_to_dict(next(self._call))
        except grpc.RpcError as err:
            if self._call.cancelled():
                raise StopIteration from None
            raise _rpc_error(err) from None


def connect(server: str, *, timeout: float = 5.0, tls: bool = False, ca_files=(), cert: str | None = None,
            key: str | None = None, server_name: str | None = None, insecure: bool = False,
            wait_ready: bool = True) -> HubbleClient:
    """Dial a Hubble server like `hubble --server` does (5 s dial timeout by default).

    `server`: `host:port`, `tls://host:port` (forces TLS) or `unix:///path`. TLS options mirror
    `--tls-ca-cert-files`, `--tls-client-cert-file/--tls-client-key-file`, `--tls-server-name`
    and `--tls-allow-insecure`. Raises ConnectionError when nothing answers within `timeout`.
    """
    target, forced = parse_server(server)
    tls = tls or forced
    options: list[tuple[str, object]] = list(_CHANNEL_OPTIONS)
    if tls and not target.startswith("unix:"):
        root = b"".join(Path(f).read_bytes() for f in ca_files) or None
        if insecure and root is None:
            host, _, port = target.rpartition(":")
            root, name = _insecure_root(host.strip("[]"), int(port), timeout)
            server_name = server_name or name
        chain = Path(cert).read_bytes() if cert else None
        private = Path(key).read_bytes() if key else None
        creds = grpc.ssl_channel_credentials(root_certificates=root, private_key=private, certificate_chain=chain)
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        channel = grpc.secure_channel(target, creds, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    if wait_ready:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            channel.close()
            raise ConnectionError(
                f"failed to connect to '{server}': context deadline exceeded") from None
    return HubbleClient(channel, server)

