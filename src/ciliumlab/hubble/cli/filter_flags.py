"""Filter flags → FlowFilter dicts, the way `hubble observe` builds them.

hubble keeps a whitelist and a blacklist tracker; `--not` sends only the next filter flag to the
blacklist. Each tracker holds a `left` and a `right` FlowFilter: "either side" flags (`--pod`,
`--ip`, ...) put the source field in left and the destination field in right, every other flag
goes to both, and namespaces are folded into pod/service values only when the filters are
materialised. Identical left/right collapse to one filter, otherwise the two are OR-ed. Error
texts and conflict groups are the real CLI's (cli.md §2.2-2.5, hubble/cmd/observe/flows_filter.go).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from .errors import HubbleError
from .names import (
    AGENT_SUBTYPES,
    DROP_REASON_ENUM,
    MESSAGE_TYPES,
    RESERVED_IDENTITIES,
    TRACE_POINTS,
    VERDICTS,
)

FlowFilter = dict

# FlowFilter fields in .proto declaration order (the JSON key order of protojson)
FLOW_FILTER_FIELDS = [
    "uuid", "source_ip", "source_ip_xlated", "source_pod", "source_fqdn", "source_label", "source_service",
    "source_workload", "source_cluster_name", "destination_ip", "destination_pod", "destination_fqdn",
    "destination_label", "destination_service", "destination_workload", "destination_cluster_name",
    "traffic_direction", "verdict", "drop_reason_desc", "interface", "event_type", "http_status_code", "protocol",
    "source_port", "destination_port", "reply", "dns_query", "source_identity", "destination_identity",
    "http_method", "http_path", "http_url", "http_header", "tcp_flags", "node_name", "node_labels", "ip_version",
    "trace_id", "ip_trace_id", "encrypted", "experimental",
]
_TCP_FLAG_ORDER = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"]
_SUBMESSAGE_ORDER = {
    "source_workload": ["name", "kind"], "destination_workload": ["name", "kind"],
    "event_type": ["type", "match_sub_type", "sub_type"], "http_header": ["key", "value"],
    "interface": ["index", "name"], "tcp_flags": _TCP_FLAG_ORDER,
}

# filters whose value needs no argument (pflag NoOptDefVal)
NO_VALUE_FILTERS = {"not", "ipv4", "ipv6", "all-namespaces", "from-all-namespaces", "to-all-namespaces",
                    "encrypted", "unencrypted"}
FILTER_SHORTHANDS = {"t": "type", "4": "ipv4", "6": "ipv6", "n": "namespace", "A": "all-namespaces", "l": "label"}
FILTER_FLAGS = [
    "not", "uuid", "node-name", "node-label", "from-cluster", "cluster", "to-cluster", "protocol", "tcp-flags",
    "type", "verdict", "drop-reason-desc", "http-status", "http-method", "http-path", "http-url", "http-header",
    "trace-id", "ip-trace-id", "from-fqdn", "fqdn", "to-fqdn", "from-ip", "snat-ip", "ip", "to-ip", "ipv4", "ipv6",
    "ip-version", "from-pod", "pod", "to-pod", "from-namespace", "namespace", "to-namespace",
    "from-all-namespaces", "all-namespaces", "to-all-namespaces", "from-label", "label", "to-label",
    "from-service", "service", "to-service", "from-port", "port", "to-port", "from-workload", "workload",
    "to-workload", "from-identity", "identity", "to-identity", "traffic-direction", "cel-expression",
    "interface", "encrypted", "unencrypted",
]

CONFLICT_GROUPS = [
    ["from-fqdn", "from-ip", "ip", "fqdn", "from-namespace", "namespace", "from-all-namespaces", "all-namespaces"],
    ["from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"],
    ["to-fqdn", "to-ip", "ip", "fqdn", "to-namespace", "namespace", "to-all-namespaces", "all-namespaces"],
    ["to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"],
    ["to-pod", "namespace", "all-namespaces"],
    ["from-pod", "namespace", "all-namespaces"],
    ["to-service", "namespace", "all-namespaces"],
    ["from-service", "namespace", "all-namespaces"],
    ["label", "from-label"], ["label", "to-label"],
    ["service", "from-service"], ["service", "to-service"],
    ["port", "to-port"], ["port", "from-port"],
    ["identity", "to-identity"], ["identity", "from-identity"],
    ["workload", "to-workload"], ["workload", "from-workload"],
    ["encrypted", "unencrypted"],
]

# (left field, right field) for "either side" flags; (field, field) for one-sided ones
_EITHER_SIDE = {"fqdn": ("source_fqdn", "destination_fqdn"), "pod": ("source_pod", "destination_pod"),
                "ip": ("source_ip", "destination_ip"), "label": ("source_label", "destination_label"),
                "service": ("source_service", "destination_service"), "port": ("source_port", "destination_port"),
                "cluster": ("source_cluster_name", "destination_cluster_name")}
_BOTH_SIDES_STRING = {
    "uuid": "uuid", "from-fqdn": "source_fqdn", "to-fqdn": "destination_fqdn", "from-pod": "source_pod",
    "to-pod": "destination_pod", "from-ip": "source_ip", "snat-ip": "source_ip_xlated", "to-ip": "destination_ip",
    "from-label": "source_label", "to-label": "destination_label", "from-service": "source_service",
    "to-service": "destination_service", "from-port": "source_port", "to-port": "destination_port",
    "trace-id": "trace_id", "http-status": "http_status_code", "http-method": "http_method",
    "http-path": "http_path", "http-url": "http_url", "protocol": "protocol", "node-name": "node_name",
    "node-label": "node_labels", "from-cluster": "source_cluster_name", "to-cluster": "destination_cluster_name",
}


def order_filter(ff: FlowFilter) -> FlowFilter:
    """A FlowFilter with keys in declaration order, empty fields dropped (protojson output shape)."""
    out: FlowFilter = {}
    for key in FLOW_FILTER_FIELDS:
        value = ff.get(key)
        if value in (None, [], {}):
            continue
        if key in _SUBMESSAGE_ORDER:
            order = _SUBMESSAGE_ORDER[key]
            value = [{k: item[k] for k in order if item.get(k) not in (None, "", 0, False)} for item in value]
        out[key] = value
    for key, value in ff.items():  # unknown keys (from raw allowlists) keep their place at the end
        if key not in out and key not in FLOW_FILTER_FIELDS and value not in (None, [], {}):
            out[key] = value
    return out


def _namespace_of(name: str) -> str:
    parts = name.split("/")
    return parts[0] if len(parts) > 1 else ""


def _add_namespaces(values: list[str], namespaces: list[str]) -> list[str]:
    if not namespaces or not values:
        return values
    out: list[str] = []
    for value in values:
        if "/" in value:
            out.append(value)
            continue
        out.extend(f"{ns}/{value}" for ns in namespaces)
    return out


def _ns_conflicts(namespaces: list[str], names: list[str]) -> str | None:
    for ns in namespaces:
        for name in names:
            nn = _namespace_of(name)
            if nn and nn != ns:
                return f"namespace conflict: {json.dumps(ns)} does not contain {json.dumps(name)}"
    return None


def _inconsistent_namespaces(pods: list[str], services: list[str]) -> str | None:
    for pod in pods:
        pod_ns = _namespace_of(pod)
        if not pod_ns:
            continue
        for svc in services:
            if _namespace_of(svc) != pod_ns:
                return f"namespace of service {json.dumps(svc)} conflict with pod {json.dumps(pod_ns)}"
    return None


class FilterTracker:
    """One side of the filter model (whitelist or blacklist): `left OR right` plus namespaces."""

    def __init__(self) -> None:
        self.left: FlowFilter | None = None
        self.right: FlowFilter | None = None
        self.ns: list[str] = []
        self.src_ns: list[str] = []
        self.dst_ns: list[str] = []
        self.changed: list[str] = []

    def apply_left(self, update: Callable[[FlowFilter], None]) -> None:
        if self.left is None:
            self.left = {}
        update(self.left)

    def apply_right(self, update: Callable[[FlowFilter], None]) -> None:
        if self.right is None:
            self.right = {}
        update(self.right)

    def apply(self, update: Callable[[FlowFilter], None]) -> None:
        self.apply_left(update)
        self.apply_right(update)

    def check_conflict(self) -> None:
        for group in CONFLICT_GROUPS:
            for flag in group:
                if flag not in self.changed:
                    continue
                for other in group:
                    if other != flag and other in self.changed:
                        raise HubbleError(f"filters --{flag} and --{other} cannot be combined")

    def check_namespace_conflicts(self, ff: FlowFilter | None) -> None:
        if ff is None:
            return
        sp, ss = ff.get("source_pod", []), ff.get("source_service", [])
        dp, ds = ff.get("destination_pod", []), ff.get("destination_service", [])
        errors = [
            _ns_conflicts(self.ns, sp), _ns_conflicts(self.ns, ss), _ns_conflicts(self.ns, dp),
            _ns_conflicts(self.ns, ds), _ns_conflicts(self.src_ns, sp), _ns_conflicts(self.src_ns, ss),
            _ns_conflicts(self.dst_ns, dp), _ns_conflicts(self.dst_ns, ds),
            _inconsistent_namespaces(sp, ss), _inconsistent_namespaces(dp, ds),
        ]
        messages = [e for e in errors if e]
        if messages:
            raise HubbleError("\n".join(messages))  # errors.Join

    def flow_filters(self) -> list[FlowFilter]:
        """Materialise: fold namespaces in, collapse identical left/right (proto.Equal)."""
        if self.left is None and self.right is None and not (self.ns or self.src_ns or self.dst_ns):
            return []
        left = copy.deepcopy(self.left) if self.left is not None else {}
        right = copy.deepcopy(self.right) if self.right is not None else {}
        if self.dst_ns:
            _apply_dest(left, self.dst_ns)
            _apply_dest(right, self.dst_ns)
        if self.src_ns:
            _apply_src(left, self.src_ns)
            _apply_src(right, self.src_ns)
        if self.ns:
            _apply_src(left, self.ns)
            _apply_dest(right, self.ns)
        left, right = order_filter(left), order_filter(right)
        return [left] if left == right else [left, right]


def _apply_src(ff: FlowFilter, namespaces: list[str]) -> None:
    if not ff.get("source_pod") and not ff.get("source_service"):
        ff["source_pod"] = [""]
    ff["source_pod"] = _add_namespaces(ff.get("source_pod", []), namespaces)
    ff["source_service"] = _add_namespaces(ff.get("source_service", []), namespaces)


def _apply_dest(ff: FlowFilter, namespaces: list[str]) -> None:
    if not ff.get("destination_pod") and not ff.get("destination_service"):
        ff["destination_pod"] = [""]
    ff["destination_pod"] = _add_namespaces(ff.get("destination_pod", []), namespaces)
    ff["destination_service"] = _add_namespaces(ff.get("destination_service", []), namespaces)


def _appender(field: str, value: object) -> Callable[[FlowFilter], None]:
    def update(ff: FlowFilter) -> None:
        ff.setdefault(field, []).append(copy.deepcopy(value))
    return update


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _parse_uint(text: str, bits: int, base: int = 10) -> int:
    """strconv.ParseUint; raises ValueError carrying Go's message."""
    try:
        if base == 0:
            low = text.lower()
            if low.startswith("0x"):
                value = int(text[2:], 16) if text[2:] and "_" not in text else int("x")
            elif low.startswith("0o"):
                value = int(text[2:], 8)
            elif low.startswith("0b"):
                value = int(text[2:], 2)
            elif len(text) > 1 and text.startswith("0"):
                value = int(text[1:], 8)
            else:
                value = int(text, 10) if text.isdigit() else int("x")
        else:
            value = int(text, 10) if text.isdigit() else int("x")
    except ValueError:
        raise ValueError(f"strconv.ParseUint: parsing {_go_quote(text)}: invalid syntax") from None
    if value >= 1 << bits:
        raise ValueError(f"strconv.ParseUint: parsing {_go_quote(text)}: value out of range")
    return value


def parse_tcp_flags(val: str) -> dict:
    flags: dict = {}
    for part in val.split(","):
        upper = part.upper()
        if upper not in _TCP_FLAG_ORDER:
            raise HubbleError(f"unknown tcp flag: {part}")
        flags[upper] = True
    return flags


def ip_version(val: str) -> str:
    low = val.lower()
    if low in ("4", "v4", "ipv4", "ip4"):
        return "IPv4"
    if low in ("6", "v6", "ipv6", "ip6"):
        return "IPv6"
    return "IP_NOT_USED"


def parse_workload(val: str) -> dict:
    if val == "":
        return {}
    if "/" not in val:
        return {"name": val}
    kind, name = val.split("/", 1)
    return {"name": name, "kind": kind}


def parse_identity(val: str) -> int:
    if val in RESERVED_IDENTITIES:
        return RESERVED_IDENTITIES[val]
    try:
        return _parse_uint(val, 32, base=0)
    except ValueError:
        names = " ".join(RESERVED_IDENTITIES)
        raise HubbleError(f"invalid security identity, expected one of [{names}] or a numeric value") from None


def parse_event_type(val: str) -> dict:
    parts = val.split(":", 1)
    type_filter: dict = {}
    if parts[0] in MESSAGE_TYPES:
        t = MESSAGE_TYPES[parts[0]]
    else:
        try:
            t = _parse_uint(parts[0], 32)
        except ValueError as err:
            raise HubbleError(f"unable to parse type '{parts[0]}', not a known type name and unable to parse "
                              f"as numeric value: {err}") from None
    type_filter["type"] = t
    if len(parts) > 1:
        sub = parts[1]
        known: int | None = None
        if t == MESSAGE_TYPES["trace"]:
            known = next((k for k, v in TRACE_POINTS.items() if v == sub), None)
        elif t == MESSAGE_TYPES["agent"]:
            known = AGENT_SUBTYPES.get(sub)
        if known is None:
            try:
                known = _parse_uint(sub, 32)
            except ValueError as err:
                raise HubbleError(f"unable to parse event sub-type '{sub}', not a known sub-type name and "
                                  f"unable to parse as numeric value: {err}") from None
        type_filter["match_sub_type"] = True
        type_filter["sub_type"] = known
    return type_filter


class FlowFilterBuilder:
    """The `flowFilter` pflag value: dispatches every filter flag, in command-line order."""

    def __init__(self) -> None:
        self.whitelist: FilterTracker | None = None
        self.blacklist: FilterTracker | None = None
        self.blacklisting = False

    def set(self, name: str, val: str) -> None:
        if name == "not":
            if self.blacklisting:
                raise HubbleError("consecutive --not statements")
            self.blacklisting = True
            return
        if self.blacklisting:
            self.blacklisting = False
            if self.blacklist is None:
                self.blacklist = FilterTracker()
            self._set(self.blacklist, name, val)
            return
        if self.whitelist is None:
            self.whitelist = FilterTracker()
        self._set(self.whitelist, name, val)

    def finish(self) -> tuple[list[FlowFilter], list[FlowFilter]]:
        if self.blacklisting:
            raise HubbleError("trailing --not found in the arguments")
        wl = self.whitelist.flow_filters() if self.whitelist else []
        bl = self.blacklist.flow_filters() if self.blacklist else []
        return wl, bl

    def _set(self, f: FilterTracker, name: str, val: str) -> None:  # noqa: C901 - one branch per flag
        if name not in f.changed:
            f.changed.append(name)
        f.check_conflict()

        if name in _EITHER_SIDE:
            src, dst = _EITHER_SIDE[name]
            f.apply_left(_appender(src, val))
            f.apply_right(_appender(dst, val))
        elif name in _BOTH_SIDES_STRING:
            f.apply(_appender(_BOTH_SIDES_STRING[name], val))
        elif name == "ipv4":
            f.apply(_appender("ip_version", "IPv4"))
        elif name == "ipv6":
            f.apply(_appender("ip_version", "IPv6"))
        elif name == "ip-version":
            f.apply(_appender("ip_version", ip_version(val)))
        elif name == "namespace":
            f.ns.append(val)
        elif name == "from-namespace":
            f.src_ns.append(val)
        elif name == "to-namespace":
            f.dst_ns.append(val)
        elif name == "all-namespaces":
            f.ns.append("")
        elif name == "from-all-namespaces":
            f.src_ns.append("")
        elif name == "to-all-namespaces":
            f.dst_ns.append("")
        elif name == "verdict":
            if val not in VERDICTS:
                raise HubbleError(f"invalid --verdict value: {val}")
            f.apply(_appender("verdict", val))
        elif name == "drop-reason-desc":
            if val == "":
                raise HubbleError("empty --drop-reason-desc value")
            if val not in DROP_REASON_ENUM:
                raise HubbleError(f"invalid --drop-reason-desc value: {val}")
            f.apply(_appender("drop_reason_desc", val))
        elif name == "http-header":
            if ":" not in val:
                raise HubbleError(f"invalid http-header value {_go_quote(val)}, expected name:value")
            key, hval = val.split(":", 1)
            f.apply(_appender("http_header", {"key": key, "value": hval}))
        elif name == "type":
            f.apply(_appender("event_type", parse_event_type(val)))
        elif name in ("workload", "from-workload", "to-workload"):
            workload = parse_workload(val)
            if name == "workload":
                f.apply_left(_appender("source_workload", workload))
                f.apply_right(_appender("destination_workload", workload))
            else:
                field = "source_workload" if name == "from-workload" else "destination_workload"
                f.apply(_appender(field, workload))
        elif name in ("identity", "from-identity", "to-identity"):
            identity = parse_identity(val)
            if name == "identity":
                f.apply_left(_appender("source_identity", identity))
                f.apply_right(_appender("destination_identity", identity))
            else:
                field = "source_identity" if name == "from-identity" else "destination_identity"
                f.apply(_appender(field, identity))
        elif name == "tcp-flags":
            f.apply(_appender("tcp_flags", parse_tcp_flags(val)))
        elif name == "traffic-direction":
            td = val.lower()
            if td not in ("ingress", "egress"):
                raise HubbleError(f"{td}: invalid traffic direction, expected ingress or egress")
            f.apply(_appender("traffic_direction", td.upper()))
        elif name == "ip-trace-id":
            try:
                trace_id = _parse_uint(val, 64)
            except ValueError as err:
                raise HubbleError(f"invalid --ip-trace-id value: {err}") from None
            if trace_id == 0:
                raise HubbleError("invalid --ip-trace-id value: must be greater than 0")
            f.apply(_appender("ip_trace_id", str(trace_id)))
        elif name == "cel-expression":
            def add_cel(ff: FlowFilter) -> None:
                ff.setdefault("experimental", {}).setdefault("cel_expression", []).append(val)
            f.apply(add_cel)
        elif name == "interface":
            f.apply(_appender("interface", {"name": val}))
        elif name == "encrypted":
            f.apply(_appender("encrypted", True))
        elif name == "unencrypted":
            f.apply(_appender("encrypted", False))
        else:  # pragma: no cover - the flag table and this dispatcher are kept in sync
            raise HubbleError(f"unknown flag: --{name}")

        f.check_namespace_conflicts(f.left)
        f.check_namespace_conflicts(f.right)
