"""The Prometheus endpoints of the served lab: one loopback port per (component, node).

In the cluster every agent listens on its node's :9962 and :9965, which cannot all be
127.0.0.1:9962 on one host, so each gets its own port (see `state.DEFAULT_METRICS_PORTS`;
`ciliumlab status` lists them). A port answers like the real endpoint while cilium-config
enables it and with 404 otherwise (a disabled endpoint has no listener in Cilium; keeping the
socket lets a config change take effect without restarting anything).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ..metricsview import AGENT, HUBBLE, OPERATOR
from .state import HOST

ENDPOINT_KEY = web.AppKey("endpoint", tuple)


@dataclass(frozen=True)
class Listener:
    target: str
    node: str | None  # None for the operator (it answers for whichever node runs it)
    port: int  # requested (0 = any free port)


def listeners(nodes: list[str], ports: list[int]) -> list[Listener]:
    """`ports` in `--metrics-ports` order: agent per node, operator, Hubble per node."""
    n = len(nodes)
    if len(ports) != 2 * n + 1:
        raise ValueError(f"{2 * n + 1} metrics ports are needed (cilium-agent on {', '.join(nodes)}, "
                         f"cilium-operator, hubble on {', '.join(nodes)}), got {len(ports)}")
    return ([Listener(AGENT, node, port) for node, port in zip(nodes, ports[:n], strict=True)]
            + [Listener(OPERATOR, None, ports[n])]
            + [Listener(HUBBLE, node, port) for node, port in zip(nodes, ports[n + 1:], strict=True)])


def label(listener: Listener) -> str:
    return f"{listener.target} ({listener.node})" if listener.node else listener.target


def make_metrics_app(lab, lock, target: str, node: str | None) -> web.Application:
    app = web.Application()
    app[ENDPOINT_KEY] = (lab, lock, target, node)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/", _index)
    return app


async def _metrics(request: web.Request) -> web.Response:
    lab, lock, target, node = request.app[ENDPOINT_KEY]
    accept = request.headers.get("Accept", "")

    def expose():
        with lock:
            return lab.metrics.expose(target, node, accept)

    found = await asyncio.get_running_loop().run_in_executor(None, expose)
    if found is None:
        where = f" on {node}" if node else ""
        return web.Response(status=404, text=f"{target} metrics are not enabled{where} (see cilium-config)\n")
    body, content_type = found
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type  # keeps `; version=…; charset=utf-8` as given
    return response


async def _index(request: web.Request) -> web.Response:
    return web.Response(text="<html><body><a href=\"/metrics\">Metrics</a></body></html>\n", content_type="text/html")


async def start_metrics(lab, lock, ports: list[int]) -> tuple[list[web.AppRunner], dict]:
    """Start every listener; returns (runners, addresses as server.json lists them)."""
    runners: list[web.AppRunner] = []
    addresses: dict = {AGENT: {}, OPERATOR: None, HUBBLE: {}}
    try:
        for item in listeners(list(lab.nodes), ports):
            runner = web.AppRunner(make_metrics_app(lab, lock, item.target, item.node), access_log=None,
                                   shutdown_timeout=0.5)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, HOST, item.port, reuse_address=True)
            try:
                await site.start()
            except OSError:
                from .server import ServeError

                raise ServeError(f"port {item.port} ({label(item)} metrics) is already in use on {HOST}") from None
            address = f"{HOST}:{runner.addresses[-1][1]}"
            if item.node is None:
                addresses[item.target] = address
            else:
                addresses[item.target][item.node] = address
    except BaseException:
        for runner in runners:
            await runner.cleanup()
        raise
    return runners, addresses
