"""The four PATCH bodies kubectl sends: JSON patch, JSON merge patch, strategic merge patch
and server-side apply.

Strategic merge is what `kubectl apply` and `kubectl patch` use for built-in kinds: lists of
containers, env, ports, volumes … merge element-by-element on a key instead of being replaced,
and the `$patch`, `$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…` directives
steer it. The merge keys follow the `patchMergeKey` tags of the Kubernetes Go types.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

_MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "conditions": "type", "ownerReferences": "uid", "hostAliases": "ip", "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey", "addresses": "type",
}
_PRIMITIVE_MERGE = {"finalizers"}


def _invalid(message: str) -> ApiError:
    return ApiError(422, "Invalid", message, {"causes": [{"message": message}]})


# -- RFC 7386 -------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- RFC 6902 -------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid(f'invalid JSON pointer "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    cur = doc
    for part in parts[:-1]:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise _invalid(f"doc is missing path: \"{path}\": missing value")
    return cur, parts[-1]


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _invalid(f"doc is missing path: \"{path}\": missing value")


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _invalid(f"doc is missing path: \"{path}\": missing value")


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _invalid(f"add operation does not apply: doc is missing path: \"{path}\": missing value")
    else:
        raise _invalid(f"doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise _invalid("Unexpected kind: <nil>")
        kind, path = op["op"], op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            parts = _pointer(path)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                parent, last = _parent(doc, parts, path)
                if isinstance(parent, list):
                    parent[int(last)] = copy.deepcopy(op.get("value"))
                else:
                    parent[last] = copy.deepcopy(op.get("value"))
        elif kind == "move":
            value = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise _invalid(f"testing value {path} failed: test failed")
        else:
            raise _invalid(f"Unexpected kind: {kind}")
    return doc


# -- strategic merge ------------------------------------------------------------------------
def strategic_merge(original: Any, patch: Any, kind: str = "", path: tuple[str, ...] = ()) -> Any:
    """Apply a strategic merge patch to `original` (a built-in kind's object)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(original, dict):
        original = {}
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    body = {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "replace":
        return _strip_directives(body)
    result = copy.deepcopy(original)
    retain = body.pop("$retainKeys", None)
    orders = {k.split("/", 1)[1]: body.pop(k) for k in list(body) if k.startswith("$setElementOrder/")}
    deletes = {k.split("/", 1)[1]: body.pop(k) for k in list(body) if k.startswith("$deleteFromPrimitiveList/")}
    for key, value in body.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value, kind, (*path, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, _merge_key(kind, path, key), key)
        else:
            result[key] = copy.deepcopy(value)
    for key, values in deletes.items():
        if isinstance(result.get(key), list):
            result[key] = [v for v in result[key] if v not in values]
    for key, order in orders.items():
        if isinstance(result.get(key), list):
            result[key] = _reorder(result[key], order, _merge_key(kind, path, key))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_key(kind: str, path: tuple[str, ...], field: str) -> str | None:
    if field == "ports":
        if kind == "Service" and path == ("spec",):
            return "port"
        # container ports merge by containerPort; EndpointSlice/Endpoints/NetworkPolicy ports are atomic
        return "containerPort" if path and path[-1] in ("containers", "initContainers", "ephemeralContainers") else None
    return _MERGE_KEYS.get(field)


def _merge_list(original: Any, patch: list, key: str | None, field: str) -> list:
    if not isinstance(original, list):
        original = []
    if key is None or any(not isinstance(item, dict) for item in patch):
        if field in _PRIMITIVE_MERGE:
            out = list(original)
            out += [v for v in patch if v not in out]
            return out
        return _strip_directives(copy.deepcopy(patch))
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = copy.deepcopy(original)
    for item in patch:
        match = next((i for i, cur in enumerate(result) if isinstance(cur, dict) and key in item
                      and cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if match is not None:
                result.pop(match)
            continue
        if match is None:
            result.append(_strip_directives(item))
        else:
            result[match] = strategic_merge(result[match], item, "", (field,))
    return result


def _reorder(items: list, order: list, key: str | None) -> list:
    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else x

    wanted = [ident(o) for o in order]
    ranked = [(wanted.index(ident(x)) if ident(x) in wanted else len(wanted) + i, x) for i, x in enumerate(items)]
    return [x for _, x in sorted(ranked, key=lambda p: p[0])]


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def apply(original: dict | None, patch: Any, content_type: str, *, kind: str, custom: bool) -> Any:
    """Dispatch on the PATCH Content-Type (parameters like `; charset=utf-8` ignored)."""
    ctype = content_type.split(";")[0].strip()
    if ctype == JSON_PATCH:
        return json_patch(original, patch)
    if ctype == MERGE_PATCH:
        return merge_patch(original, patch)
    if ctype == STRATEGIC_PATCH:
        return strategic_merge(original, patch, kind)
    if ctype == APPLY_PATCH:
        # Server-side apply, approximated: the applied configuration merges into the live object
        # (strategic for built-ins so containers/ports keep merging by key), without managedFields.
        return merge_patch(original, patch) if custom else strategic_merge(original, patch, kind)
    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media "
                   f"types include: {JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}, {STRATEGIC_PATCH}")
