"""`hubble observe` arguments → an `ObserveOptions` (GetFlowsRequest + how to print it).

`parse_observe` is the one entry point shared by the click command and the embedded API
(`lab.observe("--pod", "deathstar")`): same flags, same defaults, same error texts as hubble
v1.19 (hubble/cmd/observe/flows.go, cli.md §2).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..types import UINT64_MAX, FlowsRequest
from .config import SERVER_SHORTHANDS, SETTINGS, VALUE_LESS, Settings, parse_go_bool, resolve_settings
from .errors import HubbleError
from .filter_flags import (
    FILTER_FLAGS,
    FILTER_SHORTHANDS,
    FLOW_FILTER_FIELDS,
    NO_VALUE_FILTERS,
    FlowFilterBuilder,
    _parse_uint,
    order_filter,
)
from .gojson import compact
from .gotime import from_string, normalize_time_format, parse_duration
from .names import DROP_REASON_ENUM, TRAFFIC_DIRECTIONS, VERDICTS
from .pflags import FlagSpec, go_quote, invalid_argument, parse_args

FLOW_PRINT_COUNT = 20

# requested fields for compact/dict/table output (`--use-default-field-masks`, hubble v1.19)
DEFAULT_FIELD_MASK = ["time", "verdict", "ethernet", "IP", "l4", "source.identity", "source.namespace",
                      "source.pod_name", "destination.identity", "destination.namespace", "destination.pod_name",
                      "Type", "node_name", "l7", "event_type", "source_service", "destination_service", "is_reply",
                      "Summary", "ip_trace_id"]

FLOW_FIELDS = ["time", "uuid", "emitter", "verdict", "drop_reason", "auth_type", "ethernet", "IP", "l4", "tunnel",
               "source", "destination", "Type", "node_name", "node_labels", "source_names", "destination_names",
               "l7", "reply", "event_type", "source_service", "destination_service", "traffic_direction",
               "policy_match_type", "trace_observation_point", "trace_reason", "file", "ip_trace_id",
               "drop_reason_desc", "is_reply", "debug_capture_point", "interface", "proxy_port", "trace_context",
               "sock_xlate_point", "socket_cookie", "cgroup_id", "Summary", "extensions", "egress_allowed_by",
               "ingress_allowed_by", "egress_denied_by", "ingress_denied_by", "policy_log", "aggregate"]
_SUBFIELDS = {
    "source": ["ID", "identity", "cluster_name", "namespace", "labels", "pod_name", "workloads"],
    "destination": ["ID", "identity", "cluster_name", "namespace", "labels", "pod_name", "workloads"],
    "IP": ["source", "source_xlated", "destination", "ipVersion", "encrypted"],
    "ethernet": ["source", "destination"],
    "l4": ["TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP"],
    "l7": ["type", "latency_ns", "dns", "http", "kafka"],
    "event_type": ["type", "sub_type"],
    "source_service": ["name", "namespace"], "destination_service": ["name", "namespace"],
    "ip_trace_id": ["trace_id", "ip_option_type"],
}

OUTPUTS = {"compact": "compact", "dict": "dict", "json": "json", "JSON": "json", "jsonpb": "jsonpb",
           "tab": "table", "table": "table"}

_BOOL = "true"
SELECTOR_SPECS = [FlagSpec("all", no_opt_default=_BOOL), FlagSpec("last"), FlagSpec("first"),
                  FlagSpec("follow", "f", _BOOL), FlagSpec("since"), FlagSpec("until")]
FORMAT_SPECS = [FlagSpec("output", "o"), FlagSpec("print-node-name", no_opt_default=_BOOL),
                FlagSpec("print-policy-names", no_opt_default=_BOOL), FlagSpec("time-format"),
                FlagSpec("numeric", no_opt_default=_BOOL), FlagSpec("ip-translation", no_opt_default=_BOOL),
                FlagSpec("color")]
OTHER_SPECS = [FlagSpec("silent-errors", "s", _BOOL), FlagSpec("print-raw-filters", no_opt_default=_BOOL),
               FlagSpec("input-file"), FlagSpec("field-mask"),
               FlagSpec("use-default-field-masks", no_opt_default=_BOOL),
               FlagSpec("allowlist"), FlagSpec("denylist")]
GLOBAL_SPECS = [FlagSpec("config"), FlagSpec("debug", "D", _BOOL), FlagSpec("help", "h", _BOOL)]
_FILTER_SHORT = {v: k for k, v in FILTER_SHORTHANDS.items()}
FILTER_SPECS = [FlagSpec(n, _FILTER_SHORT.get(n, ""), {"not": "true", "ipv4": "v4", "ipv6": "v6"}.get(
    n, "true") if n in NO_VALUE_FILTERS else None) for n in FILTER_FLAGS]
_SERVER_SHORT = {v: k for k, v in SERVER_SHORTHANDS.items()}
SERVER_SPECS = [FlagSpec(k, _SERVER_SHORT.get(k, ""), _BOOL if k in VALUE_LESS else None)
                for k in SETTINGS if k not in ("config", "debug")]
OBSERVE_SPECS = SELECTOR_SPECS + FILTER_SPECS + FORMAT_SPECS + SERVER_SPECS + OTHER_SPECS + GLOBAL_SPECS


@dataclass
class ObserveOptions:
    """Everything `hubble observe` decided before talking to a server."""

    request: FlowsRequest
    output: str = "compact"  # compact | dict | json | jsonpb | table
    legacy_json: bool = False  # HUBBLE_COMPAT=legacy-json-output with -o json
    time_format: str = "StampMilli"
    node_name: bool = False
    policy_names: bool = False
    ip_translation: bool = True
    color: str = "auto"
    silent_errors: bool = False
    print_raw_filters: bool = False
    input_file: str = ""
    debug: bool = False
    help: bool = False
    settings: Settings = field(default_factory=Settings)

    def raw_filters_yaml(self) -> str:
        return raw_filters_yaml(self.request.whitelist, self.request.blacklist)


def raw_filters_yaml(whitelist: list[dict], blacklist: list[dict]) -> str:
    """`--print-raw-filters`: yaml.v3 of {allowlist, denylist} with one JSON string per filter."""
    from .config import yaml_scalar

    parts = []
    for key, filters in (("allowlist", whitelist), ("denylist", blacklist)):
        if filters:
            parts.append(key + ":\n" + "".join(f"    - {yaml_scalar(compact(f))}\n" for f in filters))
    return "".join(parts) if parts else "{}\n"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_JSON_NAMES = {_camel(f): f for f in FLOW_FILTER_FIELDS} | {f: f for f in FLOW_FILTER_FIELDS}
_ENUMS = {"verdict": VERDICTS, "traffic_direction": TRAFFIC_DIRECTIONS,
          "ip_version": ["IP_NOT_USED", "IPv4", "IPv6"]}


def _normalize_raw_filter(obj: Any, text: str) -> dict:
    """protojson.Unmarshal of a FlowFilter: proto or camelCase names, enums by name or number."""
    if not isinstance(obj, dict):
        raise ValueError("proto: syntax error (line 1:1): unexpected token")
    out: dict = {}
    for key, value in obj.items():
        name = _JSON_NAMES.get(key)
        if name is None:
            raise ValueError(f"proto: (line 1:2): unknown field {go_quote(key)}")
        if value is None:
            continue
        if name == "experimental":
            out[name] = {"cel_expression": list(value.get("cel_expression", value.get("celExpression", [])))}
            continue
        if not isinstance(value, list):
            raise ValueError(f"proto: syntax error (line 1:{len(key) + 4}): unexpected token {compact(value)}")
        if name in _ENUMS or name == "drop_reason_desc":
            names = _ENUMS.get(name) or DROP_REASON_ENUM
            value = [names[v] if isinstance(v, int) and 0 <= v < len(names) else v for v in value]
        if name == "ip_trace_id":
            value = [str(v) for v in value]
        if name in ("event_type", "source_workload", "destination_workload", "http_header", "tcp_flags",
                    "interface"):
            value = [{("match_sub_type" if k == "matchSubType" else "sub_type" if k == "subType" else k): v
                      for k, v in item.items()} for item in value]
        out[name] = value
    return order_filter(out)


def parse_raw_filters(values: list[str], flag: str) -> list[dict]:
    """`--allowlist/--denylist`: each string may hold several whitespace-separated JSON objects."""
    decoder = json.JSONDecoder()
    results: list[dict] = []
    for text in values:
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                obj, end = decoder.raw_decode(text, pos)
                results.append(_normalize_raw_filter(obj, text))
            except json.JSONDecodeError as err:
                raise HubbleError(f"invalid --{flag} flag: failed to decode '{text}': "
                                  f"invalid character {text[err.pos]!r} looking for beginning of value") from None
            except ValueError as err:
                raise HubbleError(f"invalid --{flag} flag: failed to decode '{text}': {err}") from None
            pos = end
    return results


def validate_field_mask(paths: list[str]) -> None:
    for path in paths:
        head, _, rest = path.partition(".")
        ok = head in FLOW_FIELDS
        if ok and rest and head in _SUBFIELDS:
            ok = rest.split(".")[0] in _SUBFIELDS[head]
        if not ok:
            raise HubbleError(f'failed to construct field mask: proto: invalid path "{path}" for message '
                              f'"flow.Flow"')


def _bool(spec: FlagSpec, value: str) -> bool:
    try:
        return parse_go_bool(value)
    except ValueError as err:
        raise invalid_argument(spec, value, str(err)) from None


def _uint64(spec: FlagSpec, value: str) -> int:
    try:
        return _parse_uint(value, 64)
    except ValueError as err:
        raise invalid_argument(spec, value, str(err)) from None


def _timestamp(text: str, what: str, now: datetime) -> datetime:
    try:
        return from_string(text, now).to_datetime()
    except ValueError:
        raise HubbleError(f"failed to parse the {what} time: failed to convert {text} to time") from None


def parse_observe(argv: list[str], *, now: datetime, env: Mapping[str, str] | None = None) -> ObserveOptions:
    """Parse `hubble observe [flows]` arguments exactly like hubble v1.19; raise HubbleError."""
    env = os.environ if env is None else env
    pairs, _positional = parse_args(list(argv), OBSERVE_SPECS)

    sel: dict[str, Any] = {"all": False, "last": 0, "first": 0, "follow": False, "since": "", "until": ""}
    fmt: dict[str, Any] = {"output": "compact", "time-format": "StampMilli", "print-node-name": False,
                           "print-policy-names": False, "numeric": False, "ip-translation": True, "color": "auto"}
    other: dict[str, Any] = {"silent-errors": False, "print-raw-filters": False, "input-file": "",
                             "use-default-field-masks": True}
    field_mask: list[str] = []
    raw: dict[str, list[str]] = {"allowlist": [], "denylist": []}
    server_flags: dict[str, Any] = {}
    help_flag = False
    builder = FlowFilterBuilder()
    filter_names = set(FILTER_FLAGS)

    for spec, value in pairs:
        name = spec.name
        if name in filter_names:
            try:
                builder.set(name, value)
            except HubbleError as err:
                raise invalid_argument(spec, value, str(err)) from None
        elif name in ("all", "follow"):
            sel[name] = _bool(spec, value)
        elif name in ("last", "first"):
            sel[name] = _uint64(spec, value)
        elif name in ("since", "until"):
            sel[name] = value
        elif name in ("output", "time-format", "color"):
            fmt[name] = value
        elif name in ("print-node-name", "print-policy-names", "numeric", "ip-translation"):
            fmt[name] = _bool(spec, value)
        elif name in ("silent-errors", "print-raw-filters", "use-default-field-masks"):
            other[name] = _bool(spec, value)
        elif name == "input-file":
            other[name] = value
        elif name == "field-mask":
            field_mask.extend(v for v in value.split(",") if v != "")
        elif name in raw:
            raw[name].append(value)
        elif name == "help":
            help_flag = _bool(spec, value)
        elif name == "debug":
            server_flags["debug"] = _bool(spec, value)
        else:
            kind = SETTINGS[name][0]
            if kind == "bool":
                server_flags[name] = _bool(spec, value)
            elif kind == "duration":
                try:
                    parse_duration(value)
                except ValueError as err:
                    raise invalid_argument(spec, value, str(err)) from None
                server_flags[name] = value
            elif kind == "uint16":
                try:
                    server_flags[name] = str(_parse_uint(value, 16))
                except ValueError as err:
                    raise invalid_argument(spec, value, str(err)) from None
            elif kind == "strlist":
                server_flags.setdefault(name, []).extend(v for v in value.split(",") if v != "")
            else:
                server_flags[name] = value
    settings = resolve_settings(server_flags, env)

    # handleFlowArgs
    if builder.blacklisting:
        raise HubbleError("trailing --not found in the arguments")
    output = fmt["output"]
    kind = OUTPUTS.get(output)
    if kind is None:
        raise HubbleError(f"invalid output format: {output}")
    legacy = kind == "json" and "legacy-json-output" in env.get("HUBBLE_COMPAT", "").split(",")
    if kind == "table" and sel["follow"]:
        raise HubbleError("table output format is not compatible with follow mode")
    json_out = kind in ("json", "jsonpb") and not legacy
    if not json_out:
        if field_mask:
            raise HubbleError(f"{output} output format is not compatible with custom field mask")
        if other["use-default-field-masks"]:
            field_mask = list(DEFAULT_FIELD_MASK)
    ip_translation = fmt["ip-translation"] and not fmt["numeric"]

    # getFlowsRequest
    first, last = sel["first"] > 0, sel["last"] > 0
    if first and last:
        raise HubbleError("cannot set both --first and --last")
    if first and sel["all"]:
        raise HubbleError("cannot set both --first and --all")
    if first and sel["follow"]:
        raise HubbleError("cannot set both --first and --follow")
    if last and sel["all"]:
        raise HubbleError("cannot set both --last and --all")
    since = _timestamp(sel["since"], "since", now) if sel["since"] else None
    until = _timestamp(sel["until"], "until", now) if sel["until"] and not sel["follow"] else None
    number = sel["last"]
    if since is None and until is None and not first:
        if sel["all"]:
            number = UINT64_MAX
        elif number == 0 and not sel["follow"] and other["input-file"] == "":
            number = FLOW_PRINT_COUNT
    whitelist, blacklist = builder.finish()
    allowlist = raw["allowlist"] or _setting_list(settings, "allowlist", env)
    denylist = raw["denylist"] or _setting_list(settings, "denylist", env)
    whitelist += parse_raw_filters(allowlist, "allowlist")
    blacklist += parse_raw_filters(denylist, "denylist")
    if first:
        number = sel["first"]
    if field_mask:
        validate_field_mask(field_mask)

    request = FlowsRequest(number=number, first=first, follow=sel["follow"], since=since, until=until,
                           whitelist=whitelist, blacklist=blacklist, field_mask=field_mask)
    return ObserveOptions(
        request=request, output=kind, legacy_json=legacy, time_format=normalize_time_format(fmt["time-format"]),
        node_name=fmt["print-node-name"], policy_names=fmt["print-policy-names"], ip_translation=ip_translation,
        color=fmt["color"], silent_errors=other["silent-errors"], print_raw_filters=other["print-raw-filters"],
        input_file=other["input-file"], debug=bool(settings.values.get("debug")), help=help_flag,
        settings=settings)


def _setting_list(settings: Settings, key: str, env: Mapping[str, str]) -> list[str]:
    """allowlist/denylist bound through viper: env `HUBBLE_ALLOWLIST` or the config file."""
    env_value = env.get("HUBBLE_" + key.upper())
    if env_value:
        return [v for v in re.split(r"\s+", env_value) if v] if not env_value.lstrip().startswith("{") \
            else [env_value]
    value = settings.file_values.get(key)
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value:
        return [value]
    return []
