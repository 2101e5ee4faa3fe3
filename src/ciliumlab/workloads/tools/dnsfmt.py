"""BIND's presentation of resource records (dig, host), with its tab-stop columns.

BIND aligns name / TTL / class / type / data at columns 24, 32, 40, 48 using tabs; a field
already past its column gets one space. That is why short names print ``google.com.\\t\\t300\\tIN``
and cluster names ``webpod.default.svc.cluster.local. 30 IN\\tA``.
"""

from __future__ import annotations

import time
import zlib

from ..net import DnsRecord

COLUMNS = (24, 32, 40, 48)


def _tab_to(col: int, target: int) -> tuple[str, int]:
    if col >= target:
        return " ", col + 1
    out = ""
    while col < target:
        col = (col // 8 + 1) * 8
        out += "\t"
    return out, col


def columns(fields: list[str]) -> str:
    """Join fields at BIND's tab stops; an empty field adds nothing once its column is passed."""
    out = fields[0]
    col = len(out)
    for field, target in zip(fields[1:], COLUMNS, strict=False):
        if field == "" and col >= target:
            continue
        sep, col = _tab_to(col, target)
        out += sep + field
        col += len(field)
    for field in fields[len(COLUMNS) + 1:]:
        out += "\t" + field
    return out


def record_line(rec: DnsRecord) -> str:
    return columns([rec.name, str(rec.ttl), "IN", rec.rtype, rec.data])


def question_line(name: str, qtype: str) -> str:
    return columns([";" + name, "", "IN", qtype])


def msg_id(name: str, qtype: str, when: float) -> int:
    return zlib.crc32(f"{name}/{qtype}/{when}".encode()) & 0xFFFF


def when_string(ts: float) -> str:
    """dig's ``;; WHEN:`` format (pods run in UTC)."""
    t = time.gmtime(ts)
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", t)


def wire_name_len(name: str) -> int:
    labels = [x for x in name.rstrip(".").split(".") if x]
    return sum(len(x) + 1 for x in labels) + 1


def rdata_len(rec: DnsRecord) -> int:
    if rec.rtype == "A":
        return 4
    if rec.rtype == "AAAA":
        return 16
    if rec.rtype == "SRV":
        return 6 + 2
    if rec.rtype == "SOA":
        parts = rec.data.split()
        return (wire_name_len(parts[0]) if parts else 1) + (wire_name_len(parts[1]) if len(parts) > 1 else 1) + 20
    return wire_name_len(rec.data)


def message_size(question: str, answers: list[DnsRecord], authority: list[DnsRecord], edns: bool = True) -> int:
    """Approximate wire size of the reply (names compressed to pointers after the question)."""
    size = 12 + wire_name_len(question) + 4
    for rec in answers + authority:
        size += 2 + 10 + rdata_len(rec)
    if edns:
        size += 11 + 12  # OPT RR with the echoed 8-byte client cookie
    return size


def is_cluster_name(name: str) -> bool:
    """CoreDNS answers cluster names authoritatively (aa) and the rest by forwarding (ra)."""
    n = name.rstrip(".")
    return n.endswith("cluster.local") or n.endswith("in-addr.arpa")
