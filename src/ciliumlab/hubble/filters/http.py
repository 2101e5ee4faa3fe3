"""Builders for HTTP fields: status code, method, path, url, header (Cilium's http.go).

Any http_* field requires the same FlowFilter's `event_type` list (when present) to include
type 129 (`l7`), otherwise the request is rejected: HTTP data only exists on L7 events.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from ciliumlab.hubble.types import FilterError, Flow, Predicate

from .patterns import compile_re2

MESSAGE_TYPE_ACCESS_LOG = 129  # monitor API: L7 access-log events

_STATUS_FULL = re.compile(r"[1-5][0-9]{2}")
_STATUS_PREFIX = re.compile(r"[1-5][0-9]?\+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _http(flow: Flow) -> dict | None:
    l7 = flow.get("l7")
    return None if l7 is None else l7.get("http")


def request_uri_path(url: str) -> str | None:
    """The decoded path of Go's url.ParseRequestURI(url), or None where Go returns an error.

    Request URIs are absolute paths (`/v1/x?y`) or absolute URLs (`http://h/v1/x`); anything
    else (relative, opaque `mailto:x`) is invalid and makes the path filter not match.
    """
    rest = url.split("?", 1)[0]
    if not rest.startswith("/"):
        colon = rest.find(":")
        if colon <= 0 or not _SCHEME.fullmatch(rest[:colon]):
            return None
        rest = rest[colon + 1 :]
        if rest.startswith("//"):
            slash = rest.find("/", 2)
            rest = "" if slash < 0 else rest[slash:]
        elif not rest.startswith("/"):
            return None
    if _BAD_ESCAPE.search(rest):
        return None
    return unquote(rest)


def _status_filter(values: list[str]) -> Predicate:
    full: set[str] = set()
    prefixes: list[str] = []
    for value in values:
        if _STATUS_FULL.fullmatch(value):
            full.add(value)
        elif _STATUS_PREFIX.fullmatch(value):
            prefixes.append(value[:-1])
        else:
            raise FilterError(
                f"invalid http status code filter: invalid status code prefix: {json.dumps(value, ensure_ascii=False)}"
            )
    frozen, prefix_tuple = frozenset(full), tuple(prefixes)

    def match(flow: Flow) -> bool:
        http = _http(flow)
        if http is None:
            return False
        code = http.get("code", 0)
        if not code:  # requests carry no code
            return False
        text = f"{code:03d}"
        return text in frozen or text.startswith(prefix_tuple)

    return match


def _method_filter(values: list[str]) -> Predicate:
    wanted = frozenset(v.casefold() for v in values)

    def match(flow: Flow) -> bool:
        http = _http(flow)
        if http is None:
            return False
        method = http.get("method", "")
        return bool(method) and method.casefold() in wanted

    return match


def _regexes(values: list[str], what: str) -> tuple:
    try:
        return tuple(compile_re2(v).search for v in values)
    except FilterError:
        pass
    for v in values:  # report the first bad one with Go's "<pattern>: <error>" shape
        try:
            compile_re2(v)
        except FilterError as exc:
            raise FilterError(f"invalid http {what} filter: {v}: {exc}") from None
    raise AssertionError("unreachable")


def _path_filter(values: list[str]) -> Predicate:
    searches = _regexes(values, "path")

    def match(flow: Flow) -> bool:
        http = _http(flow)
        if http is None:
            return False
        url = http.get("url", "")
        if not url:
            return False
        path = request_uri_path(url)
        if path is None:
            return False
        for search in searches:
            if search(path):
                return True
        return False

    return match


def _url_filter(values: list[str]) -> Predicate:
    searches = _regexes(values, "url")

    def match(flow: Flow) -> bool:
        http = _http(flow)
        if http is None:
            return False
        url = http.get("url", "")
        if not url:
            return False
        for search in searches:
            if search(url):
                return True
        return False

    return match


def _header_filter(entries: list[dict]) -> Predicate:
    wanted = frozenset((h.get("key", ""), h.get("value", "")) for h in entries)

    def match(flow: Flow) -> bool:
        http = _http(flow)
        if http is None:
            return False
        for header in http.get("headers", ()):
            if (header.get("key", ""), header.get("value", "")) in wanted:
                return True
        return False

    return match


def build_http(ff: dict) -> list[Predicate]:
    """`http_status_code`, `http_method`, `http_path`, `http_url`, `http_header` (in that order,
    each first checked for an l7-compatible `event_type`)."""
    event_types = ff.get("event_type", ())
    compatible = not event_types or any(e.get("type", 0) == MESSAGE_TYPE_ACCESS_LOG for e in event_types)
    preds: list[Predicate] = []
    for field, what, builder in (
        ("http_status_code", "status code", _status_filter),
        ("http_method", "method", _method_filter),
        ("http_path", "path", _path_filter),
        ("http_url", "url", _url_filter),
        ("http_header", "headers", _header_filter),
    ):
        values = ff.get(field)
        if not values:
            continue
        if not compatible:
            raise FilterError(
                f"filtering by http {what} requires the event type filter to only match 'l7' events"
            )
        preds.append(builder(values))
    return preds
