"""REST verbs on resources: list/get (JSON or Table), watch, create, update, patch, delete,
and the `status`, `scale` and `log` subresources.

Handlers only translate HTTP to the lab's write path (`lab.create`/`update`/`remove`, which
default, validate, allocate and reconcile) and read path (`lab.store`). Every lab call runs
through `ctx.gate`; a read-modify-write (PATCH, status, scale) runs as one locked call so no
other writer slips in between.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import random
import string
import time
from collections.abc import Callable
from typing import Any

import yaml
from aiohttp import web

from ...errors import AlreadyExists, Conflict, InvalidObject, NotFound
from . import patch as patching
from . import protobuf
from .context import ApiContext
from .crds import crd_objects
from .errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    method_not_allowed,
    not_found,
    unsupported_media_type,
)
from .fieldselectors import field_selector, label_selector
from .resources import Resource
from .strict import prune, strict_message
from .tables import table, wants_table

Obj = dict[str, Any]


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    resp = web.Response(text=json.dumps(body, separators=(",", ":")), status=status,
                        content_type="application/json")
    for w in warnings or []:
        resp.headers.add("Warning", '299 - "' + w.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return resp


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


# -- lab errors → Status --------------------------------------------------------------------
def lab_error(exc: Exception, res: Resource, name: str, namespace: str | None) -> ApiError:
    info = res.info
    if isinstance(exc, AlreadyExists):
        return already_exists(info, name)
    if isinstance(exc, Conflict):
        return conflict(info, name)
    if isinstance(exc, NotFound):
        return not_found(info, name)
    if isinstance(exc, InvalidObject):
        if exc.code == 404:
            ns = exc.name or namespace or ""
            return ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
        if exc.code != 422:
            return ApiError(exc.code, exc.reason, str(exc))
        causes = [{"reason": c.reason, "message": c.message, "field": c.field} for c in exc.causes]
        if not causes:
            text = str(exc)
            marker = " is invalid: "
            if marker in text:
                text = text.split(marker, 1)[1]
            causes = [{"reason": "FieldValueInvalid", "message": text, "field": ""}]
        return invalid(info, name, causes)
    raise exc


# -- request helpers ------------------------------------------------------------------------
async def read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise bad_request("the body of the request was empty")
    ctype = request.headers.get("Content-Type", "")
    if protobuf.is_protobuf(ctype):
        try:
            return protobuf.decode_object(raw)
        except protobuf.UnsupportedKind as exc:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                           f"{exc.kind} ({exc.api_version}) is not supported as {protobuf.MEDIA_TYPE} by this "
                           f"server; accepted media types include: application/json, application/yaml") from None
        except protobuf.ProtobufError as exc:
            raise bad_request(f"the object provided is unrecognized: couldn't decode the protobuf body: {exc}") from None
    if "protobuf" in ctype or "cbor" in ctype:
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                       "media types include: application/json, application/yaml, " + protobuf.MEDIA_TYPE)
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw.decode())
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _validation_mode(request: web.Request) -> str:
    mode = request.query.get("fieldValidation", "Warn")
    if mode not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", "Strict", "Warn"')
    return mode


def check_fields(obj: Obj, res: Resource, mode: str) -> tuple[Obj, list[str]]:
    """Prune unknown fields; Strict rejects them (400), Warn returns them as warnings."""
    pruned, unknown = prune(obj, res.info.kind)
    if not unknown:
        return obj, []
    if mode == "Strict":
        raise bad_request(strict_message(res.info.kind, res.info.version, unknown))
    return pruned, ([f'unknown field "{u}"' for u in unknown] if mode == "Warn" else [])


def drop_nulls(value: Any) -> Any:
    """JSON nulls decode to Go zero values, i.e. omitted fields (`kubectl run` sends
    `creationTimestamp: null`)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


_SERVER_META = ("uid", "selfLink", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "managedFields")


def _prepare(obj: Any, res: Resource, namespace: str | None, name: str | None, *, creating: bool = False) -> Obj:
    """Fill kind/apiVersion/namespace from the URL and refuse mismatches like the apiserver."""
    if not isinstance(obj, dict):
        raise bad_request("Object 'Kind' is missing in the request body")
    obj = drop_nulls(obj)
    if creating and isinstance(obj.get("metadata"), dict):
        for key in (*_SERVER_META, "resourceVersion"):
            obj["metadata"].pop(key, None)
    info = res.info
    obj.setdefault("apiVersion", info.api_version)
    obj.setdefault("kind", info.kind)
    if obj.get("kind") != info.kind:
        raise bad_request(f"the API version in the data ({obj.get('apiVersion')}) does not match the expected API "
                          f"version ({info.api_version})" if obj.get("apiVersion") != info.api_version else
                          f'{obj.get("kind")} in version "{info.version}" cannot be handled as a {info.kind}')
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if info.namespaced:
        if meta.get("namespace") and namespace and meta["namespace"] != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if namespace:
            meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if name is not None and meta.get("name") and meta["name"] != name:
        raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
    if name is not None:
        meta["name"] = name
    return obj


def _selected(objs: list[Obj], res: Resource, request: web.Request) -> list[Obj]:
    fsel = field_selector(request.query.get("fieldSelector"), res.info.kind)
    lsel = label_selector(request.query.get("labelSelector"))
    return [o for o in objs if fsel(o) and lsel(o)]


def _read_objects(ctx: ApiContext, res: Resource, namespace: str | None) -> tuple[list[Obj], str]:
    """Deep copies of the stored objects (call under the gate) and the store's resourceVersion."""
    store = ctx.lab.store
    if res.synthetic:
        objs = crd_objects(ctx.installed_at) if res.info.kind == "CustomResourceDefinition" else []
        return objs, str(store.resource_version)
    objs = store.list(res.info.kind, namespace if res.info.namespaced else None)
    return [copy.deepcopy(o) for o in objs], str(store.resource_version)


def _read_one(ctx: ApiContext, res: Resource, namespace: str | None, name: str) -> Obj | None:
    if res.synthetic:
        objs, _ = _read_objects(ctx, res, namespace)
        return next((o for o in objs if o["metadata"]["name"] == name), None)
    obj = ctx.lab.store.get(res.info.kind, namespace if res.info.namespaced else None, name)
    return copy.deepcopy(obj) if obj is not None else None


def _encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (ns, name)
    except (ValueError, TypeError):
        raise bad_request("continue key is not valid: illegal base64 data") from None


# -- GET ------------------------------------------------------------------------------------
async def list_objects(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None) -> web.StreamResponse:
    if request.query.get("watch") in ("true", "1"):
        return await watch(request, ctx, res, namespace)
    objs, rv = await ctx.gate.run(_read_objects, ctx, res, namespace)
    objs = sorted(_selected(objs, res, request), key=_key)
    token = request.query.get("continue")
    if token:
        start = _decode_continue(token)
        objs = [o for o in objs if _key(o) > start]
    next_token, remaining = "", 0
    limit = int(request.query.get("limit") or 0)
    if limit > 0 and len(objs) > limit:
        remaining = len(objs) - limit
        objs = objs[:limit]
        next_token = _encode_continue(_key(objs[-1]))
    if wants_table(request.headers.get("Accept", "")):
        return json_response(table(res.info.kind, res.custom, objs, ctx.now(), rv,
                                   include=request.query.get("includeObject", "Metadata"), continue_token=next_token))
    meta: Obj = {"resourceVersion": rv}
    if next_token:
        meta.update({"continue": next_token, "remainingItemCount": remaining})
    return json_response({"kind": f"{res.info.kind}List", "apiVersion": res.info.api_version, "metadata": meta,
                          "items": objs})


async def get_object(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None, name: str) -> web.Response:
    obj = await ctx.gate.run(_read_one, ctx, res, namespace, name)
    if obj is None:
        raise not_found(res.info, name)
    if wants_table(request.headers.get("Accept", "")):
        rv = obj["metadata"].get("resourceVersion", "")
        return json_response(table(res.info.kind, res.custom, [obj], ctx.now(), rv,
                                   include=request.query.get("includeObject", "Metadata")))
    return json_response(obj)


# -- watch ----------------------------------------------------------------------------------
async def watch(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None) -> web.StreamResponse:
    """Chunked newline-delimited events; Table-encoded rows when kubectl asks for a Table (`get -w`)."""
    fsel = field_selector(request.query.get("fieldSelector"), res.info.kind)
    lsel = label_selector(request.query.get("labelSelector"))
    as_table = wants_table(request.headers.get("Accept", ""))
    include = request.query.get("includeObject", "Metadata")
    bookmarks = request.query.get("allowWatchBookmarks") in ("true", "1")
    send_initial = request.query.get("sendInitialEvents") == "true"
    rv_param = request.query.get("resourceVersion", "")
    timeout = float(request.query.get("timeoutSeconds") or random.randint(1800, 3600))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    flag = asyncio.Event()
    ctx.hub.register(flag)
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
    resp.enable_chunked_encoding()
    first = True

    def matches(obj: Obj) -> bool:
        if res.info.namespaced and namespace and (obj.get("metadata") or {}).get("namespace") != namespace:
            return False
        return fsel(obj) and lsel(obj)

    async def send(kind: str, obj: Obj) -> None:
        nonlocal first
        if as_table and kind in ("ADDED", "MODIFIED", "DELETED"):
            obj = table(res.info.kind, res.custom, [obj], ctx.now(), (obj.get("metadata") or {}).get("resourceVersion", ""),
                        include=include, with_columns=first)
            first = False
        await resp.write(json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n")

    def bookmark(rv: int, initial_end: bool = False) -> Obj:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": res.info.kind, "apiVersion": res.info.api_version, "metadata": meta}

    try:
        await resp.prepare(request)
        if rv_param in ("", "0") or send_initial:
            objs, rv = await ctx.gate.run(_read_objects, ctx, res, namespace)
            last = int(rv)
            for obj in sorted(objs, key=_key):
                if matches(obj):
                    await send("ADDED", obj)
            if send_initial and bookmarks:
                await send("BOOKMARK", bookmark(last, initial_end=True))
        else:
            try:
                last = int(rv_param)
            except ValueError:
                raise bad_request(f'resourceVersion: Invalid value: "{rv_param}": must be an integer') from None
        while True:
            flag.clear()
            events = ctx.hub.since(last, res.info.kind)
            if events is None:
                await send("ERROR", ApiError(410, "Expired", f"too old resource version: {last}").status())
                break
            for event in events:
                last = event.rv
                if matches(event.obj):
                    await send(event.type, event.obj)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(flag.wait(), timeout=min(remaining, 60.0))
            except TimeoutError:
                if bookmarks and loop.time() < deadline:
                    await send("BOOKMARK", bookmark(last))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        ctx.hub.unregister(flag)
    return resp


# -- writes ---------------------------------------------------------------------------------
def _generate_name(obj: Obj) -> None:
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


async def create(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None) -> web.Response:
    obj = _prepare(await read_body(request), res, namespace, None, creating=True)
    obj, warnings = check_fields(obj, res, _validation_mode(request))
    _generate_name(obj)
    name = obj["metadata"].get("name", "")
    if request.query.get("dryRun") == "All":
        return json_response(await ctx.gate.run(_dry_run_create, ctx, res, obj), 201, warnings)
    try:
        stored = await ctx.gate.run(ctx.lab.create, obj)
    except (InvalidObject, NotFound) as exc:
        raise lab_error(exc, res, name, namespace) from None
    return json_response(stored, 201, warnings)


def _dry_run_create(ctx: ApiContext, res: Resource, obj: Obj) -> Obj:
    from ..validation import apply_defaults, validate

    name = obj["metadata"].get("name", "")
    if _read_one(ctx, res, obj["metadata"].get("namespace"), name) is not None:
        raise already_exists(res.info, name)
    obj = apply_defaults(obj)
    causes = validate(obj, old=None)
    if causes:
        raise lab_error(InvalidObject.from_causes(res.info.kind, name, causes), res, name, None)
    return obj


async def replace(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None, name: str,
                  subresource: str = "") -> web.Response:
    body = await read_body(request)
    if subresource == "scale":
        return json_response(_scale_of(await _locked(ctx, res, namespace, name, lambda live: _scale_apply(live, body))))
    obj = _prepare(body, res, namespace, name)
    obj, warnings = check_fields(obj, res, _validation_mode(request))
    if subresource == "status":
        return json_response(await _locked(ctx, res, namespace, name, lambda live: {**live, "status": obj.get("status")}),
                             warnings=warnings)

    def run() -> Obj:
        try:
            return ctx.lab.update(obj, check_version=True)
        except (InvalidObject, NotFound) as exc:
            raise lab_error(exc, res, name, namespace) from None

    return json_response(await ctx.gate.run(run), warnings=warnings)


async def _locked(ctx: ApiContext, res: Resource, namespace: str | None, name: str,
                  change: Callable[[Obj], Obj]) -> Obj:
    """Read-modify-write under one lock: `change(live)` returns the wanted object; no-ops don't write."""
    def run() -> Obj:
        live = _read_one(ctx, res, namespace, name)
        if live is None:
            raise not_found(res.info, name)
        wanted = change(copy.deepcopy(live))
        if wanted == live:
            return live
        try:
            return ctx.lab.update(wanted, check_version=True)
        except (InvalidObject, NotFound) as exc:
            raise lab_error(exc, res, name, namespace) from None

    return await ctx.gate.run(run)


def _restore_identity(patched: Any, live: Obj) -> Obj:
    if not isinstance(patched, dict):
        raise bad_request("the patch produced an object that is not a JSON object")
    patched = drop_nulls(patched)
    patched["kind"], patched["apiVersion"] = live["kind"], live["apiVersion"]
    meta = patched.setdefault("metadata", {})
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if field in live["metadata"]:
            meta[field] = live["metadata"][field]
    return patched


async def patch_object(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None, name: str,
                       subresource: str = "") -> web.Response:
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
    if res.custom and ctype == patching.STRATEGIC_PATCH:
        raise unsupported_media_type()
    if ctype not in (patching.JSON_PATCH, patching.MERGE_PATCH, patching.STRATEGIC_PATCH, patching.APPLY_PATCH):
        raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted "
                       f"media types include: {patching.JSON_PATCH}, {patching.MERGE_PATCH}, {patching.APPLY_PATCH}"
                       + ("" if res.custom else f", {patching.STRATEGIC_PATCH}"))
    body = await read_body(request)
    mode = _validation_mode(request)
    warnings: list[str] = []

    if subresource == "scale":
        def scale_change(live: Obj) -> Obj:
            scale = _scale_of(live)
            new = patching.apply(scale, body, ctype, kind="Scale", custom=True)
            return _scale_apply(live, new)

        return json_response(_scale_of(await _locked(ctx, res, namespace, name, scale_change)))

    def change(live: Obj) -> Obj:
        patched = _restore_identity(patching.apply(live, body, ctype, kind=res.info.kind, custom=res.custom), live)
        if subresource == "status":
            live["status"] = patched.get("status")
            return live
        checked, found = check_fields(patched, res, mode)
        warnings.extend(found)
        return checked

    if ctype == patching.APPLY_PATCH:
        exists = await ctx.gate.run(_read_one, ctx, res, namespace, name)
        if exists is None and not subresource:
            obj = _prepare(copy.deepcopy(body), res, namespace, name, creating=True)
            obj, warnings = check_fields(obj, res, mode)
            try:
                return json_response(await ctx.gate.run(ctx.lab.create, obj), 201, warnings)
            except (InvalidObject, NotFound) as exc:
                raise lab_error(exc, res, name, namespace) from None
    return json_response(await _locked(ctx, res, namespace, name, change), warnings=warnings)


def _scale_of(live: Obj) -> Obj:
    from .tables import selector_string

    meta = live["metadata"]
    spec, status = live.get("spec") or {}, live.get("status") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": spec.get("replicas", 1)},
            "status": {"replicas": status.get("replicas", 0), "selector": selector_string(spec.get("selector"))}}


def _scale_apply(live: Obj, scale: Any) -> Obj:
    """Turn a wanted Scale into the parent object's new spec.replicas (caller writes it)."""
    if not isinstance(scale, dict):
        raise bad_request("Scale must be an object")
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise ApiError(422, "Invalid", f'Scale.autoscaling "{live["metadata"]["name"]}" is invalid: spec.replicas: '
                       f"Invalid value: {replicas}: must be greater than or equal to 0",
                       {"name": live["metadata"]["name"], "group": "autoscaling", "kind": "Scale",
                        "causes": [{"reason": "FieldValueInvalid", "field": "spec.replicas",
                                    "message": f"Invalid value: {replicas}: must be greater than or equal to 0"}]})
    wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
    if wanted_rv and wanted_rv != live["metadata"].get("resourceVersion"):
        live["metadata"]["resourceVersion"] = wanted_rv  # lab.update turns this into a 409
    live.setdefault("spec", {})["replicas"] = replicas
    return live


async def get_scale(ctx: ApiContext, res: Resource, namespace: str | None, name: str) -> web.Response:
    obj = await ctx.gate.run(_read_one, ctx, res, namespace, name)
    if obj is None:
        raise not_found(res.info, name)
    return json_response(_scale_of(obj))


async def delete(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None, name: str) -> web.Response:
    if res.synthetic:
        raise method_not_allowed()
    if request.query.get("dryRun") == "All":
        obj = await ctx.gate.run(_read_one, ctx, res, namespace, name)
        if obj is None:
            raise not_found(res.info, name)
        return json_response(obj)

    def run() -> Obj:
        try:
            return ctx.lab.remove(res.info.kind, name, namespace)
        except (InvalidObject, NotFound) as exc:
            raise lab_error(exc, res, name, namespace) from None

    return json_response(await ctx.gate.run(run))


async def delete_collection(request: web.Request, ctx: ApiContext, res: Resource, namespace: str | None) -> web.Response:
    if res.synthetic:
        raise method_not_allowed()

    def run() -> list[Obj]:
        objs, _ = _read_objects(ctx, res, namespace)
        gone = []
        for obj in sorted(_selected(objs, res, request), key=_key):
            meta = obj["metadata"]
            try:
                gone.append(ctx.lab.remove(res.info.kind, meta["name"], meta.get("namespace")))
            except NotFound:
                continue
        return gone

    items = await ctx.gate.run(run)
    rv = str(ctx.lab.store.resource_version)
    return json_response({"kind": f"{res.info.kind}List", "apiVersion": res.info.api_version,
                          "metadata": {"resourceVersion": rv}, "items": items})


# -- pods/log -------------------------------------------------------------------------------
async def pod_log(request: web.Request, ctx: ApiContext, res: Resource, namespace: str, name: str) -> web.Response:
    """Container logs. The image behaviours keep no log yet, so a running container's log is empty."""
    pod = await ctx.gate.run(_read_one, ctx, res, namespace, name)
    if pod is None:
        raise not_found(res.info, name)
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    wanted = request.query.get("container")
    if wanted is None:
        if len(containers) != 1:
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: "
                              f"[{' '.join(containers)}]")
        wanted = containers[0]
    inits = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    if wanted not in containers and wanted not in inits:
        raise bad_request(f"container {wanted} is not valid for pod {name}")
    hook = ctx.extra.get("pod_logs")
    log = await ctx.gate.run(hook, namespace, name, wanted) if hook is not None else ""
    return web.Response(text=format_log(log, request.query), content_type="text/plain")


def format_log(log: str | list[tuple[float, str]], query) -> str:
    """The hook's log as kubectl asked for it: `tailLines` (`--tail`), `timestamps`
    (`--timestamps`, RFC 3339 with nanoseconds before each line; only for (time, line) logs)."""
    if isinstance(log, str):
        pairs = [(None, line) for line in log.splitlines()]
    else:
        pairs = list(log)
    tail = query.get("tailLines")
    if tail is not None and tail.lstrip("-").isdigit() and int(tail) >= 0:
        pairs = pairs[len(pairs) - int(tail):] if int(tail) else []
    stamps = query.get("timestamps", "").lower() in ("true", "1")
    out = []
    for ts, line in pairs:
        if stamps and ts is not None:
            nanos = int(round(ts * 1e9)) % 1_000_000_000
            line = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{nanos:09d}Z {line}"
        out.append(line + "\n")
    return "".join(out)
