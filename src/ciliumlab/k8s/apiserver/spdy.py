"""SPDY/3.1 framing, just what `kubectl port-forward` needs (shared/spec/kubeapi §10.2).

kubectl ≥1.31 tunnels SPDY through WebSocket binary messages; the messages are a plain byte
stream, so frames may be split across messages or packed several to one — `FrameReader`
buffers. Header blocks are zlib-compressed with the SPDY/3 preset dictionary, one compression
context per direction for the whole connection (`HeaderCodec`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

# Control frame types (SPDY/3).
SYN_STREAM = 1
SYN_REPLY = 2
RST_STREAM = 3
SETTINGS = 4
PING = 6
GOAWAY = 7
HEADERS = 8
WINDOW_UPDATE = 9

FLAG_FIN = 0x01
VERSION = 3

# RST_STREAM status codes.
RST_PROTOCOL_ERROR = 1
RST_INVALID_STREAM = 2
RST_CANCEL = 5

#: The largest DATA payload we send in one frame (the peer's default window is 64 KiB).
MAX_DATA = 32 * 1024


def _dictionary() -> bytes:
    """The SPDY/3 header-compression dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1):
    length-prefixed header names and values, then a run of common value fragments.
    1423 bytes, sha256 51d27341…07f02 (checked by the unit tests)."""
    words = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
             "accept-ranges age allow authorization cache-control connection content-base content-encoding "
             "content-language content-length content-location content-md5 content-range content-type date "
             "etag expect expires from host if-match if-modified-since if-none-match if-range "
             "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
             "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
             "user-agent vary via warning www-authenticate method get status").split()
    words += ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
    tail = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
            "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
            "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, "
            "Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,"
            "application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch"
            "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + tail.encode()


DICTIONARY = _dictionary()


class SpdyError(Exception):
    """A frame we cannot make sense of: the session ends."""


@dataclass
class Frame:
    """One frame. Control frames have `ctype` set (and `stream_id` when the type has one);
    data frames have `ctype=None`. `headers` is filled for SYN_STREAM/SYN_REPLY/HEADERS."""

    ctype: int | None
    flags: int
    stream_id: int = 0
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0  # RST_STREAM / GOAWAY status, PING id, WINDOW_UPDATE delta

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class HeaderCodec:
    """The two zlib contexts of one connection (inflate what the peer sends, deflate ours)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)

    def decode(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            pos = 4
            headers: dict[str, str] = {}
            for _ in range(count):
                (n,) = struct.unpack_from(">I", raw, pos)
                name = raw[pos + 4:pos + 4 + n].decode("latin-1")
                pos += 4 + n
                (n,) = struct.unpack_from(">I", raw, pos)
                value = raw[pos + 4:pos + 4 + n].decode("latin-1")
                pos += 4 + n
                headers[name.lower()] = value.split("\x00")[0]
        except struct.error as exc:
            raise SpdyError(f"malformed header block: {exc}") from exc
        return headers

    def encode(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            n, v = name.lower().encode("latin-1"), value.encode("latin-1")
            raw += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


class FrameReader:
    """Feed bytes in, get whole frames out."""

    def __init__(self, codec: HeaderCodec) -> None:
        self.codec = codec
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 8:
            (length,) = struct.unpack(">I", b"\x00" + bytes(self._buf[5:8]))
            if len(self._buf) < 8 + length:
                break
            head = bytes(self._buf[:8])
            payload = bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            frames.append(self._parse(head, payload))
        return frames

    def _parse(self, head: bytes, payload: bytes) -> Frame:
        flags = head[4]
        if not head[0] & 0x80:
            (sid,) = struct.unpack(">I", head[:4])
            return Frame(None, flags, sid & 0x7FFFFFFF, payload)
        version, ctype = struct.unpack(">HH", head[:4])
        if version & 0x7FFF != VERSION:
            raise SpdyError(f"unsupported SPDY version {version & 0x7FFF}")
        frame = Frame(ctype, flags, payload=payload)
        if ctype == SYN_STREAM:
            if len(payload) < 10:
                raise SpdyError("short SYN_STREAM")
            frame.stream_id = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            frame.headers = self.codec.decode(payload[10:])
        elif ctype in (SYN_REPLY, HEADERS):
            frame.stream_id = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            frame.headers = self.codec.decode(payload[4:])
        elif ctype in (RST_STREAM, WINDOW_UPDATE) and len(payload) >= 8:
            sid, value = struct.unpack(">II", payload[:8])
            frame.stream_id, frame.status = sid & 0x7FFFFFFF, value & 0x7FFFFFFF
        elif ctype == PING and len(payload) >= 4:
            frame.status = struct.unpack(">I", payload[:4])[0]
        elif ctype == GOAWAY and len(payload) >= 8:
            frame.stream_id, frame.status = struct.unpack(">II", payload[:8])
        return frame


def _control(ctype: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, ctype, (flags << 24) | len(payload)) + payload


def data_frame(stream_id: int, data: bytes, *, fin: bool = False) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data


def syn_reply(codec: HeaderCodec, stream_id: int, headers: dict[str, str] | None = None, *,
              fin: bool = False) -> bytes:
    return _control(SYN_REPLY, FLAG_FIN if fin else 0,
                    struct.pack(">I", stream_id & 0x7FFFFFFF) + codec.encode(headers or {}))


def syn_stream(codec: HeaderCodec, stream_id: int, headers: dict[str, str], *, fin: bool = False) -> bytes:
    """(Client side; the tests use it to play kubectl.)"""
    return _control(SYN_STREAM, FLAG_FIN if fin else 0,
                    struct.pack(">IIBB", stream_id & 0x7FFFFFFF, 0, 0, 0) + codec.encode(headers))


def rst_stream(stream_id: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id & 0x7FFFFFFF, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


def goaway(last_stream_id: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack(">II", last_stream_id & 0x7FFFFFFF, status))
