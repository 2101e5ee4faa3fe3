"""Printers for `hubble observe` / `status` / `list`: compact, dict, table, json(pb).

Each function mirrors hubble/pkg/printer (v1.19) field by field: host rendering (`ns/pod`,
`ns/svc`, FQDNs or the IP, `:port` via JoinHostPort for TCP/UDP/SCTP), identities, the reply
arrow swap, the TYPE and VERDICT columns, Go tabwriter alignment and Go's JSON encoder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from ...tabwriter import TabWriter
from . import gojson
from .gotime import SECOND, format_duration, format_timestamp, round_duration, timestamp_of
from .names import (
    POLICY_MATCH_TYPES,
    SOCK_XLATE_TEXT,
    TYPE_CAPTURE,
    TYPE_DROP,
    TYPE_POLICY_VERDICT,
    TYPE_TRACE,
    TYPE_TRACE_SOCK,
    drop_reason_text,
    identity_text,
    trace_point_text,
)

DICT_SEPARATOR = "------------"
NODE_NAMES_CUTOFF = 50

_COLORS = {"host": "36", "port": "33", "identity": "35", "forwarded": "32", "dropped": "31", "audit": "33",
           "traced": "33", "translated": "33", "auth_fail": "31", "auth": "32"}


class Colorer:
    """fatih/color-style ANSI wrapping; a no-op unless colours are enabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, kind: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_COLORS[kind]}m{text}\x1b[0m"


def color_enabled(mode: str, stream: TextIO) -> bool:
    """`--color auto|always|never`: auto = a terminal and NO_COLOR unset."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    isatty = getattr(stream, "isatty", lambda: False)
    return bool(isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _path_join(ns: str, name: str) -> str:
    """Go `path.Join(ns, name)` for the simple names hubble joins."""
    parts = [p for p in (ns, name) if p]
    return "/".join(parts)


def flow_ports(flow: dict) -> tuple[str, str]:
    l4 = flow.get("l4") or {}
    for proto in ("TCP", "UDP", "SCTP"):
        if proto in l4:
            p = l4[proto] or {}
            return str(int(p.get("source_port", 0))), str(int(p.get("destination_port", 0)))
    return "", ""


def flow_type(flow: dict) -> str:
    """The TYPE column (printer.GetFlowType)."""
    if "l7" in flow:
        l7 = flow["l7"] or {}
        proto = "l7"
        l7_type = str(l7.get("type", "UNKNOWN_L7_TYPE")).lower()
        if "http" in l7:
            proto = "http"
        elif "dns" in l7:
            proto = "dns"
            l7_type += " " + str((l7.get("dns") or {}).get("observation_source", ""))
        elif "kafka" in l7:
            proto = "kafka"
        return f"{proto}-{l7_type}"
    et = flow.get("event_type") or {}
    etype, sub = int(et.get("type", 0)), int(et.get("sub_type", 0))
    if etype == TYPE_TRACE:
        return trace_point_text(sub)
    if etype == TYPE_DROP:
        return drop_reason_text(sub)
    if etype == TYPE_POLICY_VERDICT:
        match = POLICY_MATCH_TYPES.get(int(flow.get("policy_match_type", 0)), "unknown")
        return f"policy-verdict:{match} {flow.get('traffic_direction', 'TRAFFIC_DIRECTION_UNKNOWN')}"
    if etype == TYPE_CAPTURE:
        return str(flow.get("debug_capture_point", "DBG_CAPTURE_POINT_UNKNOWN"))
    if etype == TYPE_TRACE_SOCK:
        point = str(flow.get("sock_xlate_point", "SOCK_XLATE_POINT_UNKNOWN"))
        return SOCK_XLATE_TEXT.get(point, point)
    return "UNKNOWN"


def _policy_names(flow: dict, allowed: bool) -> str:
    """` BY name (Kind), ...` for `--print-policy-names` (the policies on the verdict's side)."""
    direction = flow.get("traffic_direction", "")
    prefix = ["ingress"] if direction == "INGRESS" else ["egress"] if direction == "EGRESS" else ["ingress", "egress"]
    policies = [p for side in prefix for p in flow.get(f"{side}_{'allowed' if allowed else 'denied'}_by", [])]
    if not policies:
        return ""
    return " BY " + ", ".join(f"{p.get('name', '')} ({p.get('kind', '')})" for p in policies)


@dataclass
class Printer:
    """Writes GetFlowsResponse events the way `hubble observe -o <fmt>` does."""

    output: str = "compact"  # compact | dict | json | jsonpb | table
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    time_format: str = "StampMilli"
    node_name: bool = False
    policy_names: bool = False
    ip_translation: bool = True
    color: bool = False
    legacy_json: bool = False
    silent_errors: bool = False
    debug: bool = False
    line: int = 0

    def __post_init__(self) -> None:
        self._tw = TabWriter() if self.output == "table" else None
        self._c = Colorer(self.color and self.output in ("compact", "dict"))

    # --- pieces -------------------------------------------------------------------------------
    def _ts(self, value: object) -> str:
        return format_timestamp(timestamp_of(value), self.time_format)

    def hostname(self, ip: str, port: str, ns: str, pod: str, svc: str, names: list[str]) -> str:
        host = ip
        if self.ip_translation:
            if pod:
                host = _path_join(ns, pod)
            elif svc:
                host = _path_join(ns, svc)
            elif names:
                host = ",".join(names)
        if port and port != "0":
            return _join_host_port(host, self._c("port", port))
        return host

    def host_names(self, flow: dict) -> tuple[str, str]:
        if "IP" not in flow:
            if "ethernet" in flow:
                eth = flow["ethernet"] or {}
                return self._c("host", eth.get("source", "")), self._c("host", eth.get("destination", ""))
            return "", ""
        src, dst = flow.get("source") or {}, flow.get("destination") or {}
        src_ns, src_pod, dst_ns, dst_pod = src.get("namespace", ""), src.get("pod_name", ""), \
            dst.get("namespace", ""), dst.get("pod_name", "")
        src_svc = dst_svc = ""
        if "source_service" in flow:
            svc = flow["source_service"] or {}
            src_ns, src_svc = svc.get("namespace", ""), svc.get("name", "")
        if "destination_service" in flow:
            svc = flow["destination_service"] or {}
            dst_ns, dst_svc = svc.get("namespace", ""), svc.get("name", "")
        sport, dport = flow_ports(flow)
        ip = flow["IP"] or {}
        s = self.hostname(ip.get("source", ""), sport, src_ns, src_pod, src_svc, flow.get("source_names", []))
        d = self.hostname(ip.get("destination", ""), dport, dst_ns, dst_pod, dst_svc,
                          flow.get("destination_names", []))
        return self._c("host", s), self._c("host", d)

    def identities(self, flow: dict) -> tuple[str, str]:
        s = int((flow.get("source") or {}).get("identity", 0))
        d = int((flow.get("destination") or {}).get("identity", 0))
        return self._c("identity", identity_text(s)), self._c("identity", identity_text(d))

    def verdict(self, flow: dict) -> str:
        verdict = str(flow.get("verdict", "VERDICT_UNKNOWN"))
        is_pv = int((flow.get("event_type") or {}).get("type", 0)) == TYPE_POLICY_VERDICT
        msg = verdict
        if verdict in ("FORWARDED", "REDIRECTED"):
            if is_pv:
                msg = "ALLOWED" + (_policy_names(flow, True) if self.policy_names else "")
            return self._c("forwarded", msg)
        if verdict in ("DROPPED", "ERROR"):
            if is_pv:
                msg = "DENIED" + (_policy_names(flow, False) if self.policy_names else "")
            return self._c("dropped", msg)
        if verdict == "AUDIT":
            if is_pv:
                msg = "AUDITED" + (_policy_names(flow, True) if self.policy_names else "")
            return self._c("audit", msg)
        if verdict == "TRACED":
            return self._c("traced", msg)
        if verdict == "TRANSLATED":
            return self._c("translated", msg)
        return msg

    def summary(self, flow: dict) -> str:
        out = ""
        trace = flow.get("ip_trace_id") or {}
        if int(trace.get("trace_id", 0) or 0) > 0:
            out += f"IP Trace ID: {int(trace['trace_id'])}; "
        out += str(flow.get("Summary", ""))
        auth = str(flow.get("auth_type", "DISABLED"))
        if auth != "DISABLED":
            out += "; Auth: " + self._c("auth_fail" if auth == "TEST_ALWAYS_FAIL" else "auth", auth)
        return out

    # --- events -------------------------------------------------------------------------------
    def write_response(self, res: dict) -> None:
        """Dispatch one GetFlowsResponse (flow, node_status, lost_events)."""
        if "flow" in res:
            self.write_flow(res)
        elif "node_status" in res:
            self.write_node_status(res)
        elif "lost_events" in res:
            self.write_lost_events(res)

    def _json(self, value: dict, stream: TextIO | None = None) -> None:
        (stream or self.out).write(gojson.compact(value) + "\n")

    def write_flow(self, res: dict) -> None:
        f = res.get("flow") or {}
        if self.output in ("json", "jsonpb"):
            self._json(f if self.legacy_json else res)
            return
        src, dst = self.host_names(f)
        if self.output == "table":
            assert self._tw is not None
            if self.line == 0:
                self._tw.write("TIMESTAMP\t" + ("NODE\t" if self.node_name else "")
                               + "SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n")
            self._tw.write(self._ts(f.get("time")) + "\t" + (f.get("node_name", "") + "\t" if self.node_name else "")
                           + f"{src}\t{dst}\t{flow_type(f)}\t{self.verdict(f)}\t{self.summary(f)}\n")
        elif self.output == "dict":
            if self.line != 0:
                self.out.write(DICT_SEPARATOR + "\n")
            text = f"  TIMESTAMP: {self._ts(f.get('time'))}\n"
            if self.node_name:
                text += f"       NODE: {f.get('node_name', '')}\n"
            text += (f"     SOURCE: {src}\nDESTINATION: {dst}\n       TYPE: {flow_type(f)}\n"
                     f"    VERDICT: {self.verdict(f)}\n    SUMMARY: {self.summary(f)}\n")
            self.out.write(text)
        else:
            src_id, dst_id = self.identities(f)
            node = f" [{f.get('node_name', '')}]" if self.node_name else ""
            arrow = "->"
            if "is_reply" not in f or f["is_reply"] is None:
                arrow = "<>"
            elif f["is_reply"]:
                src, dst, src_id, dst_id, arrow = dst, src, dst_id, src_id, "<-"
            self.out.write(f"{self._ts(f.get('time'))}{node}: {src} {src_id} {arrow} {dst} {dst_id} "
                           f"{flow_type(f)} {self.verdict(f)} ({self.summary(f)})\n")
        self.line += 1

    def write_lost_events(self, res: dict) -> None:
        lost = res.get("lost_events") or {}
        source = str(lost.get("source", "UNKNOWN_LOST_EVENT_SOURCE"))
        num = int(lost.get("num_events_lost", 0) or 0)
        cpu = int(lost.get("cpu", 0) or 0)
        if self.output in ("json", "jsonpb"):
            self._json(lost if self.legacy_json else res)
            return
        if self.output == "table":
            assert self._tw is not None
            if self.line == 0:
                self._tw.write("TIMESTAMP\t" + ("NODE\t" if self.node_name else "")
                               + "SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n")
            self._tw.write("\t" + ("\t" if self.node_name else "")
                           + f"{source}\t\tEVENTS LOST\t\tCPU({cpu}) - {num}\n")
        elif self.output == "dict":
            if self.line != 0:
                self.out.write(DICT_SEPARATOR + "\n")
            text = "  TIMESTAMP: \n" + ("       NODE: \n" if self.node_name else "")
            text += f"     SOURCE: {source}\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU({cpu}) - {num}\n"
            self.out.write(text)
        else:
            text = f"{self._ts(res.get('time'))} EVENTS LOST: {source} CPU({cpu}) {num}"
            if "first" in lost or "last" in lost:
                text += f" (first: {self._ts(lost.get('first'))}, last: {self._ts(lost.get('last'))})"
            self.out.write(text + "\n")
        self.line += 1

    def write_node_status(self, res: dict) -> None:
        status = res.get("node_status") or {}
        state = str(status.get("state_change", "UNKNOWN_NODE_STATE"))
        if not self.debug and state not in ("NODE_ERROR", "NODE_UNAVAILABLE"):
            return
        if self.silent_errors:
            return
        names = list(status.get("node_names", []))
        joined = join_with_cutoff(names, ", ", NODE_NAMES_CUTOFF)
        if self.output in ("json", "jsonpb"):
            self._json(res, self.err)
        elif self.output == "dict":
            if self.line != 0:
                self.err.write(DICT_SEPARATOR + "\n")
            else:
                self.line += 1
            message = status.get("message", "")
            message = gojson.compact(message) if message else "N/A"
            self.err.write(f"  TIMESTAMP: {self._ts(res.get('time'))}\n      STATE: {state}\n"
                           f"      NODES: {joined}\n    MESSAGE: {message}\n")
        else:
            prefix = f"{self._ts(res.get('time'))} [{res.get('node_name', '')}]"
            n = len(names)
            msg = f"{prefix}: unknown node status event: {gojson.compact(status)}"
            if state == "NODE_CONNECTED":
                msg = f"{prefix}: Receiving flows from {n} nodes: {joined}"
            elif state == "NODE_UNAVAILABLE":
                msg = f"{prefix}: {n} nodes are unavailable: {joined}"
            elif state == "NODE_GONE":
                msg = f"{prefix}: {n} nodes removed from cluster: {joined}"
            elif state == "NODE_ERROR":
                msg = f"{prefix}: Error {gojson.compact(status.get('message', ''))} on {n} nodes: {joined}"
            self.err.write(msg + "\n")

    def close(self) -> None:
        """Flush the table (hubble prints tables only once the stream has ended)."""
        if self._tw is not None:
            self.out.write(self._tw.flush())


def join_with_cutoff(elems: list[str], sep: str, target: int) -> str:
    length, end = 0, len(elems)
    for i, elem in enumerate(elems):
        length += len(elem) + len(sep)
        if length > target and i > 0:
            end = i
            break
    joined = sep.join(elems[:end])
    omitted = len(elems) - end
    return joined if omitted == 0 else f"{joined} (and {omitted} more)"


# --- hubble status --------------------------------------------------------------------------

def uint64_grouping(n: int) -> str:
    return f"{n:,}"


def _uptime(ns: int) -> str:
    return format_duration(round_duration(ns, SECOND))


def format_server_status(res: dict, output: str) -> str:
    """ServerStatusResponse as `hubble status -o <output>` prints it (after the healthcheck line)."""
    num, mx, seen = int(res.get("num_flows", 0)), int(res.get("max_flows", 0)), int(res.get("seen_flows", 0))
    uptime_ns = int(res.get("uptime_ns", 0))
    connected = "N/A" if res.get("num_connected_nodes") is None else str(int(res["num_connected_nodes"]))
    unavailable = "N/A" if res.get("num_unavailable_nodes") is None else str(int(res["num_unavailable_nodes"]))
    rate = float(res.get("flows_rate", 0) or 0)
    per_sec = f"{rate:.2f}" if rate > 0 else "N/A"
    if output in ("json", "jsonpb"):
        return gojson.compact(res) + "\n"
    if output == "table":
        tw = TabWriter()
        tw.write("NUM FLOWS\tMAX FLOWS\tSEEN FLOWS\tFLOWS PER SECOND\tUPTIME\tNUM CONNECTED NODES\t"
                 "NUM UNAVAILABLE NODES\tVERSION\n")
        tw.write(f"{uint64_grouping(num)}\t{uint64_grouping(mx)}\t{uint64_grouping(seen)}\t{per_sec}\t"
                 f"{_uptime(uptime_ns)}\t{connected}\t{unavailable}\t{res.get('version', '')}\n")
        return tw.flush()
    if output == "dict":
        return (f"          NUM FLOWS: {uint64_grouping(num)}\n          MAX FLOWS: {uint64_grouping(mx)}\n"
                f"         SEEN FLOWS: {uint64_grouping(seen)}\n   FLOWS PER SECOND: {per_sec}\n"
                f"             UPTIME: {_uptime(uptime_ns)}\nNUM CONNECTED NODES: {connected}\n"
                f" NUM UNAVAIL. NODES: {unavailable}\n            VERSION: {res.get('version', '')}\n")
    ratio = f" ({num / mx * 100:.2f}%)" if mx > 0 else ""
    text = f"Current/Max Flows: {uint64_grouping(num)}/{uint64_grouping(mx)}{ratio}\n"
    if per_sec == "N/A" and uptime_ns > 0:
        per_sec = f"{seen / (uptime_ns / SECOND):.2f}"
    text += f"Flows/s: {per_sec}\n"
    n_conn, n_unav = res.get("num_connected_nodes"), res.get("num_unavailable_nodes")
    if n_conn is not None:
        total = f"/{int(n_unav) + int(n_conn)}" if n_unav is not None else ""
        text += f"Connected Nodes: {int(n_conn)}{total}\n"
    if n_unav is not None and int(n_unav) > 0:
        nodes = sorted(res.get("unavailable_nodes") or [])
        if nodes:
            if int(n_unav) > len(nodes):
                nodes.append(f"and {int(n_unav) - len(nodes)} more...")
            text += f"Unavailable Nodes: {int(n_unav)}\n  - " + "\n  - ".join(nodes) + "\n"
        else:
            text += f"Unavailable Nodes: {int(n_unav)}\n"
    return text


# --- hubble list ----------------------------------------------------------------------------

_NODE_STATES = {"NODE_CONNECTED": "Connected", "NODE_UNAVAILABLE": "Unavailable", "NODE_GONE": "Gone",
                "NODE_ERROR": "Error"}


def format_nodes(nodes: list[dict], output: str) -> str:
    nodes = sorted(nodes, key=lambda n: n.get("name", ""))
    if output == "json":
        return gojson.indent(nodes or None) + "\n"
    tw = TabWriter()
    tw.write("NAME\tSTATUS\tAGE\tFLOWS/S\tCURRENT/MAX-FLOWS" + ("\tVERSION\tADDRESS\tTLS" if output == "wide" else "")
             + "\n")
    for n in nodes:
        age = per_sec = "N/A"
        uptime = round_duration(int(n.get("uptime_ns", 0)), SECOND)
        if uptime > 0:
            age = format_duration(uptime)
            per_sec = f"{int(n.get('seen_flows', 0)) / (uptime / SECOND):.2f}"
        mx, num = int(n.get("max_flows", 0)), int(n.get("num_flows", 0))
        ratio = f"{num}/{mx} ({num / mx * 100:6.2f}%)" if mx > 0 else "N/A"
        row = f"{n.get('name', '')}\t{_NODE_STATES.get(n.get('state', ''), 'Unknown')}\t{age}\t{per_sec}\t{ratio}"
        if output == "wide":
            tls = "N/A"
            if "tls" in n:
                tls = "Enabled" if (n["tls"] or {}).get("enabled") else "Disabled"
            row += f"\t{n.get('version') or 'N/A'}\t{n.get('address', '')}\t{tls}"
        tw.write(row + "\n")
    return tw.flush()


def format_namespaces(namespaces: list[dict], output: str) -> str:
    if output == "json":
        return gojson.indent(namespaces or None) + "\n"
    tw = TabWriter()
    tw.write("NAMESPACE" + ("\tCLUSTER" if output == "wide" else "") + "\n")
    for ns in namespaces:
        row = ns.get("namespace", "")
        if output == "wide" and ns.get("cluster"):
            row += "\t" + ns["cluster"]
        tw.write(row + "\n")
    return tw.flush()


PrinterFactory = Callable[..., Printer]
