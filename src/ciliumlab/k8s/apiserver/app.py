"""The aiohttp application: routing, bearer-token auth and error → Status translation.

`make_app(lab)` is a thin adapter: discovery and OpenAPI describe `resources.RESOURCES`, the
REST handlers read `lab.store` and write through `lab.create`/`update`/`remove`, and one lock
(`gate.LabGate`) serialises every call into the engine.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web

from ...clock import WallClock
from ...workloads.logs import pod_logs
from . import cadvisor, discovery, handlers, openapi
from .context import ApiContext
from .errors import ApiError, bad_request, internal, method_not_allowed, not_found_path, unauthorized
from .gate import LabGate
from .resources import by_path
from .streams import DEFAULT_STREAM_HANDLERS, STREAM_HANDLERS, install_stream_registries
from .watch import WatchHub
from .worker import releasing_wait

log = logging.getLogger(__name__)

CONTEXT: web.AppKey[ApiContext] = web.AppKey("ciliumlab_api_context", ApiContext)
_PUBLIC = ("/version", "/healthz", "/livez", "/readyz")


def make_app(lab, *, token: str | None = None, lock: threading.RLock | asyncio.Lock | None = None) -> web.Application:
    """An aiohttp app serving `lab` as a Kubernetes API server (plain HTTP; TLS is the caller's)."""
    gate = LabGate(lock)
    with gate.lock if not isinstance(gate.lock, asyncio.Lock) else _nullcontext():
        hub = WatchHub(lab.store)
        installed = min((_created(o) for o in lab.store.list("Node")), default=lab.clock.now())
    ctx = ApiContext(lab=lab, gate=gate, hub=hub, token=token, installed_at=installed)
    ctx.extra["pod_logs"] = functools.partial(pod_logs, lab)  # `kubectl logs` (replaceable)
    if isinstance(lab.clock, WallClock) and not isinstance(gate.lock, asyncio.Lock):
        # a datapath wait (SYN retries until --connect-timeout, a DNS timeout) lets go of the lab lock
        lab.clock.wait = releasing_wait(gate.lock)
    app = web.Application(middlewares=[_errors, _auth], client_max_size=64 * 1024 * 1024)
    app[CONTEXT] = ctx
    app[STREAM_HANDLERS] = dict(DEFAULT_STREAM_HANDLERS)
    install_stream_registries(app)
    app.router.add_get("/version", _version)
    for probe in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(probe, _ok)
    app.router.add_get("/api", _api)
    app.router.add_get("/apis", _apis)
    app.router.add_get("/openapi/v2", _not_found)
    app.router.add_get("/openapi/v3", _openapi_index)
    app.router.add_get("/openapi/v3/{path:.+}", _openapi_doc)
    app.router.add_get("/api/v1/nodes/{name}/proxy/metrics/cadvisor", cadvisor.cadvisor)
    app.router.add_route("*", "/api/{version}{tail:.*}", _core)
    app.router.add_route("*", "/apis/{group}", _group)
    app.router.add_route("*", "/apis/{group}/{version}{tail:.*}", _grouped)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _created(obj: dict) -> float:
    from .tables import parse_time

    return parse_time((obj.get("metadata") or {}).get("creationTimestamp")) or 0.0


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return handlers.json_response(exc.status(), exc.code)
    except web.HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure must reach kubectl as a Status
        log.exception("ciliumlab apiserver: %s %s failed", request.method, request.path)
        err = internal(f"{type(exc).__name__}: {exc}")
        return handlers.json_response(err.status(), err.code)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With a token configured every request needs `Authorization: Bearer <token>`; a request
    without any credentials may still read the public endpoints (/version, /healthz), like
    anonymous access on a kubeadm cluster."""
    token = request.app[CONTEXT].token
    if token is not None:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                raise unauthorized()
        elif request.path not in _PUBLIC:
            raise unauthorized()
    return await handler(request)


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _not_found(request: web.Request) -> web.Response:
    raise not_found_path()


async def _version(request: web.Request) -> web.Response:
    return handlers.json_response(discovery.version_info())


def _discovery_response(request: web.Request, core: bool) -> web.Response:
    accept = request.headers.get("Accept", "")
    if discovery.wants_aggregated(accept):
        body = discovery.aggregated(core)
        ctype = discovery.AGGREGATED_CT
        if "v=v2;" not in accept.replace(" ", "") + ";" and "v=v2beta1" in accept:
            body["apiVersion"] = "apidiscovery.k8s.io/v2beta1"
            ctype = discovery.AGGREGATED_CT_BETA
        resp = handlers.json_response(body)
        resp.headers["Content-Type"] = ctype
        return resp
    if core:
        return handlers.json_response(discovery.legacy_api(request.host))
    return handlers.json_response(discovery.legacy_groups())


async def _api(request: web.Request) -> web.Response:
    return _discovery_response(request, core=True)


async def _apis(request: web.Request) -> web.Response:
    return _discovery_response(request, core=False)


async def _openapi_index(request: web.Request) -> web.Response:
    return handlers.json_response(openapi.index())


async def _openapi_doc(request: web.Request) -> web.Response:
    parts = request.match_info["path"].strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        doc = openapi.document("", parts[1])
    elif parts[:1] == ["apis"] and len(parts) == 3:
        doc = openapi.document(parts[1], parts[2])
    else:
        doc = None
    if doc is None:
        raise not_found_path()
    resp = handlers.json_response(doc)
    resp.headers["Cache-Control"] = "public, immutable"
    return resp


async def _group(request: web.Request) -> web.Response:
    if request.method != "GET":
        raise method_not_allowed()
    body = discovery.legacy_group(request.match_info["group"])
    if body is None:
        raise not_found_path()
    return handlers.json_response(body)


async def _core(request: web.Request) -> web.StreamResponse:
    return await _dispatch(request, "", request.match_info["version"], request.match_info["tail"])


async def _grouped(request: web.Request) -> web.StreamResponse:
    return await _dispatch(request, request.match_info["group"], request.match_info["version"],
                           request.match_info["tail"])


async def _dispatch(request: web.Request, group: str, version: str, tail: str) -> web.StreamResponse:
    """Route `/api/v1/...` and `/apis/G/V/...` to the verb handler for (resource, ns, name, sub)."""
    ctx = request.app[CONTEXT]
    if tail and not tail.startswith("/"):
        raise not_found_path()
    parts = [p for p in tail.split("/") if p]
    if not parts:
        body = discovery.resource_list(group, version)
        if body is None or request.method != "GET":
            raise not_found_path()
        return handlers.json_response(body)
    namespace: str | None = None
    if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] not in ("status", "finalize"):
        namespace, parts = parts[1], parts[2:]
    res = by_path(group, version, parts[0])
    if res is None or len(parts) > 3:
        raise not_found_path()
    if namespace is not None and not res.info.namespaced:
        raise not_found_path()
    name = parts[1] if len(parts) > 1 else None
    sub = parts[2] if len(parts) > 2 else ""
    method = request.method
    if sub and sub not in res.subresources:
        raise not_found_path()

    if name is None:
        if method == "GET":
            return await handlers.list_objects(request, ctx, res, namespace)
        if method == "POST":
            if res.info.namespaced and namespace is None:
                raise method_not_allowed()
            _writable(res)
            return await handlers.create(request, ctx, res, namespace)
        if method == "DELETE":
            return await handlers.delete_collection(request, ctx, res, namespace)
        raise method_not_allowed()
    if res.info.namespaced and namespace is None:
        raise not_found_path()

    if sub in ("exec", "attach", "portforward"):
        stream = request.app[STREAM_HANDLERS].get(sub)
        if stream is None:
            raise bad_request(f"pods/{sub} is not served by this lab API server")
        return await stream(request, ctx, namespace or "", name)
    if sub == "log":
        if method != "GET":
            raise method_not_allowed()
        return await handlers.pod_log(request, ctx, res, namespace or "", name)
    if sub == "scale" and method == "GET":
        return await handlers.get_scale(ctx, res, namespace, name)
    if sub not in ("", "status", "scale"):
        raise method_not_allowed()
    if method == "GET":
        return await handlers.get_object(request, ctx, res, namespace, name)
    _writable(res)
    if method == "PUT":
        return await handlers.replace(request, ctx, res, namespace, name, sub)
    if method == "PATCH":
        return await handlers.patch_object(request, ctx, res, namespace, name, sub)
    if method == "DELETE" and not sub:
        return await handlers.delete(request, ctx, res, namespace, name)
    raise method_not_allowed()


def _writable(res) -> None:
    if res.synthetic:
        raise method_not_allowed()
