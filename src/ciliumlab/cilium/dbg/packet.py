"""The bytes of a monitor event's packet, for `cilium-dbg monitor -v -v --hex`.

The datapath does not carry packets, only their headers' meaning (addresses, ports, flags,
length). This module lays those out as the wire would: Ethernet II, IPv4 (with a correct header
checksum) and TCP / UDP / ICMP, zero-padded to the event's length — so a hex dump decodes in
any packet tool to exactly what the monitor line says. Dumped like Go's `encoding/hex.Dump`.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib

from ..datapath import events as ev

ETH_IPV4 = 0x0800
TCP_WINDOW = 64240


def _mac(text: str, fallback: str) -> bytes:
    parts = (text or fallback).split(":")
    return bytes(int(p, 16) for p in parts) if len(parts) == 6 else bytes(6)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(text: str) -> bytes:
    try:
        return ipaddress.IPv4Address(text).packed
    except ValueError:
        return bytes(4)


def packet_bytes(e: ev.MonitorEvent, length: int, src_mac: str = "", dst_mac: str = "") -> bytes:
    """Ethernet + IPv4 + L4 header for event `e`, padded (or cut) to `length` bytes."""
    s, d = e.src, e.dst
    if e.proto == ev.TCP:
        seq = zlib.crc32(f"{s.ip}:{s.port}>{d.ip}:{d.port}".encode())
        l4 = struct.pack("!HHIIBBHHH", s.port, d.port, seq, 0, 5 << 4, e.tcp_flags & 0xFF, TCP_WINDOW, 0, 0)
    elif e.proto in (ev.UDP, ev.SCTP):
        l4 = struct.pack("!HHHH", s.port, d.port, max(length - 34, 8), 0)
    else:
        icmp_type = max(e.icmp_type, 0) if e.proto == ev.ICMP else 0
        l4 = struct.pack("!BBHHH", icmp_type, 0, 0, s.port & 0xFFFF, 1)
    ip_len = max(length - 14, 20 + len(l4))
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, e.proto or 1, 0, _ip(s.ip), _ip(d.ip))
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    frame = _mac(dst_mac, "00:00:00:00:00:00") + _mac(src_mac, "00:00:00:00:00:00") + struct.pack("!H", ETH_IPV4)
    data = frame + header + l4
    return (data + bytes(max(0, length - len(data))))[:max(length, 14)]


def hex_dump(data: bytes) -> str:
    """Go's `hex.Dump`: offset, 16 bytes in two groups of eight, and the printable ASCII."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        cells = [f"{b:02x}" for b in chunk] + ["  "] * (16 - len(chunk))
        text = "".join(chr(b) if 32 <= b <= 126 else "." for b in chunk)
        lines.append(f"{off:08x}  {' '.join(cells[:8])}  {' '.join(cells[8:])}  |{text}|\n")
    return "".join(lines)
