"""The served lab: one process, one Lab on the wall clock, everything on 127.0.0.1.

    kube-apiserver   https://127.0.0.1:6443   (TLS from the state dir's CA, bearer token)
    hubble-relay     127.0.0.1:4245           (plaintext gRPC, like `cilium hubble port-forward`)
    hubble per node  127.0.0.1:42441..42443   (k8s-ctr, k8s-w1, k8s-w2: the agents' :4244)

Every port can be changed (0 = any free port); the bound addresses go to server.json.
One `CommitLock` serialises the engine between the API handlers and the Hubble servers and
commits the object store to SQLite when a write's lock is released, before the response.
SIGTERM / SIGINT stop it cleanly (final checkpoint, runtime files removed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field

from .. import __version__
from .state import HOST, Ports, ServerLock, StateDir

log = logging.getLogger("ciliumlab.served")

EXIT_OK, EXIT_ERROR, EXIT_RUNNING = 0, 1, 3


class ServeError(Exception):
    """A start-up failure with a message for the user (port taken, bad options…)."""


@dataclass
class Endpoints:
    apiserver: str
    relay: str
    nodes: dict[str, str] = field(default_factory=dict)
    metrics: dict | None = None  # {"cilium-agent": {node: addr}, "cilium-operator": addr, "hubble": {node: addr}}
    monitoring: dict | None = None  # {"prometheus": url, "grafana": url} once the stack runs

    def as_dict(self) -> dict:
        return {"apiserver": self.apiserver, "hubble": {"relay": self.relay, "nodes": dict(self.nodes)},
                "metrics": self.metrics, "monitoring": self.monitoring, "ui": None}


def free_port() -> int:
    """A port nothing listens on now (for a child process that cannot report what it bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_available(port: int) -> bool:
    """Whether 127.0.0.1:`port` can be listened on (what aiohttp/gRPC are about to do)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(1)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def named_ports(ports: Ports, nodes: list[str]) -> list[tuple[str, int]]:
    if len(ports.hubble_nodes) != len(nodes):
        raise ServeError(f"{len(nodes)} Hubble node ports are needed ({', '.join(nodes)}), "
                         f"got {len(ports.hubble_nodes)}")
    from .metrics import label, listeners

    try:
        metrics = [(f"{label(item)} metrics", item.port) for item in listeners(nodes, ports.metrics)]
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    return [("kube-apiserver", ports.api), ("hubble-relay", ports.relay),
            *((f"hubble ({node})", port) for node, port in zip(nodes, ports.hubble_nodes, strict=True)),
            *metrics, ("prometheus", ports.prometheus), ("grafana", ports.grafana)]


def check_ports(ports: Ports, nodes: list[str]) -> None:
    """Raise ServeError naming the first requested port that is taken (or asked for twice)."""
    seen: dict[int, str] = {}
    for what, port in named_ports(ports, nodes):
        if port == 0:
            continue
        if not 0 < port < 65536:
            raise ServeError(f"invalid port {port} for {what}")
        if port in seen:
            raise ServeError(f"port {port} is requested for both {seen[port]} and {what}")
        seen[port] = what
        if not port_available(port):
            raise ServeError(f"port {port} ({what}) is already in use on {HOST}")


class ServedLab:
    def __init__(self, state: StateDir, ports: Ports, *, install_monitoring: bool = False) -> None:
        self.state = state
        self.ports = ports
        self.install_monitoring = install_monitoring
        self.monitoring = None
        self.info: dict = {}
        self.lab = None
        self.persister = None
        self.lock = None
        self.runner = None
        self.metric_runners: list = []
        self.grpc_servers: list = []
        self.hubble_tls = None
        self.endpoints: Endpoints | None = None
        self.restored = False
        self.ready_seconds = 0.0

    # -- start ------------------------------------------------------------------------------------
    def build(self) -> None:
        """Token, PKI, the Lab (restored from store.db when there is one) and its persister."""
        from ..lab import Lab
        from .persist import CommitLock, Persister, load
        from .tls import ensure_pki

        state = self.state
        self.token = state.token()
        ensure_pki(state.ca_cert, state.ca_key, state.server_cert, state.server_key)
        snapshot = load(state.db)
        if snapshot is not None:
            objects, rv = snapshot
            self.lab = Lab(clock="wall", restore=objects, restore_version=rv, data_dir=state.path / "nodes")
            self.restored = True
        else:
            self.lab = Lab(clock="wall", data_dir=state.path / "nodes")
        if self.install_monitoring:
            from .monitoring import install

            install(self.lab)
        self.persister = Persister(state.db, self.lab.store)
        self.persister.snapshot()
        self.lock = CommitLock(self.persister.flush)

    async def start(self) -> Endpoints:
        from aiohttp import web

        from ..k8s.apiserver import PORT_FORWARD_TARGETS, make_app
        from ..k8s.apiserver.portforward import NODE_KEY
        from .hubble import serve_hubble, write_tls
        from .metrics import start_metrics

        lab, ports = self.lab, self.ports
        with self.lock:
            self.hubble_tls = write_tls(lab, self.state.path / "tls" / "hubble")
        relay, nodes = serve_hubble(lab, self.lock, ports.relay, dict(zip(lab.nodes, ports.hubble_nodes, strict=True)),
                                    self.hubble_tls)
        self.grpc_servers = [relay, *nodes.values()]
        sslctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        sslctx.minimum_version = ssl.TLSVersion.TLSv1_2
        sslctx.load_cert_chain(str(self.state.server_cert), str(self.state.server_key))
        app = make_app(lab, token=self.token, lock=self.lock)
        # `kubectl port-forward -n kube-system svc/hubble-relay 4245:80` reaches the served relay
        app[PORT_FORWARD_TARGETS][("kube-system", "hubble-relay", 4245)] = (HOST, relay.port)
        self.metric_runners, metrics = await start_metrics(lab, self.lock, ports.metrics)
        for node in lab.nodes:  # `kubectl port-forward ds/cilium 9962` reaches that node's agent
            for target, port in (("cilium-agent", 9962), ("hubble", 9965)):
                app[PORT_FORWARD_TARGETS][(NODE_KEY, node, port)] = _split(metrics[target][node])
        app[PORT_FORWARD_TARGETS][(NODE_KEY, lab.metrics.operator_node(), 9963)] = _split(metrics["cilium-operator"])
        self.runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, HOST, ports.api, ssl_context=sslctx, reuse_address=True)
        try:
            await site.start()
        except OSError:
            raise ServeError(f"port {ports.api} (kube-apiserver) is already in use on {HOST}") from None
        api_port = self.runner.addresses[0][1]
        self.endpoints = Endpoints(f"https://{HOST}:{api_port}", f"{HOST}:{relay.port}",
                                   {n: f"{HOST}:{s.port}" for n, s in nodes.items()}, metrics)
        self.monitoring = self._monitoring(app, metrics, api_port)
        return self.endpoints

    def _monitoring(self, app, metrics: dict, api_port: int):
        """The stack that runs Prometheus / the Grafana page while the cluster asks for them."""
        from ..k8s.apiserver import PORT_FORWARD_TARGETS
        from .monitoring import NAMESPACE, MonitoringStack

        prometheus_port = self.ports.prometheus or free_port()
        stack = MonitoringStack(self.lab, self.lock, self.state.path / "prometheus", prometheus_port=prometheus_port,
                                grafana_port=self.ports.grafana, metrics=metrics, api_address=f"{HOST}:{api_port}",
                                api_ca_file=str(self.state.ca_cert), api_token_file=str(self.state.token_file),
                                on_change=self._monitoring_changed)
        app[PORT_FORWARD_TARGETS][(NAMESPACE, "prometheus", 9090)] = (HOST, prometheus_port)
        return stack

    def _monitoring_changed(self, monitoring: dict | None) -> None:
        if self.endpoints is not None:
            self.endpoints.monitoring = monitoring
        if self.info:
            self.info["monitoring"] = monitoring
            self.state.write_server(self.info)

    async def stop(self) -> None:
        from .hubble import stop_all

        if self.monitoring is not None:
            await self.monitoring.stop()
            self.monitoring = None
        if self.grpc_servers:
            for server in self.grpc_servers:
                if getattr(server, "source", None) is not None:
                    server.source.close()
            stop_all(self.grpc_servers)
            self.grpc_servers = []
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        for runner in self.metric_runners:
            await runner.cleanup()
        self.metric_runners = []
        if self.persister is not None:
            with self.lock:
                self.lock.on_release = None
                self.persister.close()
            self.persister = None


def serve(state: StateDir, ports: Ports, *, on_ready=None, monitoring: bool = False) -> int:
    """Run the served lab until SIGTERM/SIGINT. Returns the process exit code."""
    t0 = time.monotonic()
    os.umask(0o077)  # the store, keys, token and kubeconfig are the user's alone
    state.ensure()
    lock = ServerLock(state)
    if not lock.acquire():
        pid = state.read_pid()
        print(f"ciliumlab is already running (pid {pid}, state dir {state.path})", file=sys.stderr)
        return EXIT_RUNNING
    served = ServedLab(state, ports, install_monitoring=monitoring)
    try:
        state.clear_runtime()
        state.pidfile.write_text(f"{os.getpid()}\n")
        from ..k8s.bootstrap import default_cluster_config

        check_ports(ports, [n.name for n in default_cluster_config().nodes])
        served.build()
        return asyncio.run(_run(served, t0, on_ready))
    except ServeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    finally:
        state.clear_runtime()
        lock.release()


async def _run(served: ServedLab, t0: float, on_ready) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            endpoints = await served.start()
        except (RuntimeError, OSError) as exc:  # gRPC: "Failed to bind to address 127.0.0.1:4245"
            raise ServeError(_bind_message(str(exc), served)) from None
        state = served.state
        served.ready_seconds = time.monotonic() - t0
        state.write_kubeconfig(endpoints.apiserver)
        info = {"pid": os.getpid(), "version": __version__, "stateDir": str(state.path),
                "kubeconfig": str(state.kubeconfig), "startedAt": time.time(), "restored": served.restored,
                "readySeconds": round(served.ready_seconds, 3), **endpoints.as_dict()}
        served.info = info
        state.write_server(info)
        if served.monitoring is not None:
            served.monitoring.start()
        print(f"ciliumlab: ready in {served.ready_seconds:.2f}s ({'restored' if served.restored else 'new'} lab); "
              f"kube-apiserver {endpoints.apiserver}, hubble-relay {endpoints.relay}, "
              + ", ".join(f"hubble {n} {a}" for n, a in endpoints.nodes.items()), file=sys.stderr, flush=True)
        if on_ready is not None:
            on_ready(info)
        await stop.wait()
        print("ciliumlab: stopping", file=sys.stderr, flush=True)
        return EXIT_OK
    finally:
        await served.stop()


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def _bind_message(text: str, served: ServedLab) -> str:
    names = {served.ports.relay: "hubble-relay"}
    names.update({p: f"hubble ({n})" for n, p in zip(served.lab.nodes, served.ports.hubble_nodes, strict=True)})
    for port, what in names.items():
        if port and f":{port}" in text:
            return f"port {port} ({what}) is already in use on {HOST}"
    return text
