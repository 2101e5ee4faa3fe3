"""HTTP/1.1 on the wire, for port-forwarded connections into the lab's pod servers.

`RequestParser` takes the raw bytes a browser/curl/urllib writes to the forwarded local port
and yields `HttpRequest`s (Content-Length and chunked bodies, pipelining, keep-alive);
`render_response` turns the lab's `HttpResponse` back into bytes.
"""

from __future__ import annotations

import re

from ...workloads.net import HttpRequest, HttpResponse, find_header

MAX_HEAD = 64 * 1024
_REQUEST_LINE = re.compile(r"([A-Z][A-Z-]{0,19}) (\S+) (HTTP/1\.[01])")


class HttpParseError(Exception):
    """The bytes are not an HTTP/1.x request (TLS, HTTP/2, garbage)."""


class RequestParser:
    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or None until more bytes arrive."""
        if not self.buf:
            return None
        if not 0x41 <= self.buf[0] <= 0x5A:  # requests start with an upper-case method
            raise HttpParseError("not an HTTP/1.x request")
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                raise HttpParseError("request head too large")
            return None
        head = bytes(self.buf[:end]).decode("latin-1")
        lines = head.split("\r\n")
        m = _REQUEST_LINE.fullmatch(lines[0])
        if m is None:
            raise HttpParseError(f"bad request line {lines[0][:40]!r}")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpParseError(f"bad header line {line[:40]!r}")
            headers.append((name.strip(), value.strip()))
        pos = end + 4
        te = (find_header(headers, "Transfer-Encoding") or "").lower()
        if "chunked" in te:
            decoded = _dechunk(self.buf, pos)
            if decoded is None:
                return None
            body, pos = decoded
        else:
            length = find_header(headers, "Content-Length")
            n = int(length) if length and length.strip().isdigit() else 0
            if len(self.buf) < pos + n:
                return None
            body = bytes(self.buf[pos:pos + n])
            pos += n
        del self.buf[:pos]
        return HttpRequest(method=m.group(1), target=m.group(2), host=find_header(headers, "Host") or "",
                           headers=headers, body=body, version=m.group(3))

    @staticmethod
    def wants_close(request: HttpRequest) -> bool:
        conn = (request.header("Connection") or "").lower()
        if request.version == "HTTP/1.0":
            return "keep-alive" not in conn
        return "close" in conn


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    body = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise HttpParseError("bad chunk size") from exc
        pos = eol + 2
        if size == 0:
            # trailers end with an empty line
            end = buf.find(b"\r\n\r\n", pos - 2)
            if end < 0:
                return None
            return bytes(body), end + 4
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos:pos + size]
        pos += size + 2


def render_response(response: HttpResponse, request: HttpRequest, *, close: bool = False) -> bytes:
    headers = list(response.headers)
    chunked = "chunked" in (response.header("Transfer-Encoding") or "").lower()
    no_body = request.method == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
    if not chunked and response.header("Content-Length") is None and not no_body:
        headers.append(("Content-Length", str(len(response.body))))
    if close and response.header("Connection") is None:
        headers.append(("Connection", "close"))
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    body = b"" if no_body else response.body
    if chunked and not no_body:
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    return head.encode("latin-1") + body
