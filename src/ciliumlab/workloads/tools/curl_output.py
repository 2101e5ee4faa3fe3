"""curl's progress meter and ``-w/--write-out`` rendering.

The meter matters for fidelity: without ``-s``, and with stdout not a terminal
(``kubectl exec`` without ``-t``), curl writes it to stderr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METER_HEADER = (
    "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
    "                                 Dload  Upload   Total   Spent    Left  Speed\n"
)


def max5(n: float) -> str:
    """curl's max5data(): a byte count or speed in at most 5 characters."""
    n = int(n)
    if n < 100000:
        return f"{n:5d}"
    if n < 10000 * 1024:
        return f"{n // 1024:4d}k"
    if n < 100 * 1024 * 1024:
        return f"{n // (1024 * 1024):2d}.{(n * 10 // (1024 * 1024)) % 10}M"
    return f"{n // (1024 * 1024):4d}M"


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:2d}:{(s // 60) % 60:02d}:{s % 60:02d}" if s >= 1 else "--:--:--"


def meter_line(total: int | None, received: int, uploaded: int, upload_total: int, elapsed: float) -> str:
    pct = (100 if total else 0) if total is not None and received >= (total or 0) else 0
    if total:
        pct = received * 100 // total
    up_pct = (uploaded * 100 // upload_total) if upload_total else 0
    grand = (total or 0) + upload_total
    grand_pct = ((received + uploaded) * 100 // grand) if grand else 0
    speed = received / elapsed if elapsed > 0 else received
    uspeed = uploaded / elapsed if elapsed > 0 else uploaded
    spent = _hms(elapsed)
    return (f"{grand_pct:3d} {max5(grand)}  {pct:3d} {max5(received)}  {up_pct:3d} {max5(uploaded)}  "
            f"{max5(speed)}  {max5(uspeed)} {spent if total else '--:--:--'} {spent} --:--:-- {max5(speed)}")


def meter(total: int | None, received: int, uploaded: int, upload_total: int, elapsed: float, done: bool) -> str:
    """The meter as curl leaves it on stderr: header, the first (zero) line, the final line."""
    zero = meter_line(None, 0, 0, 0, 0.0)
    if not done and received == 0:
        return METER_HEADER + zero
    return METER_HEADER + zero + "\r" + meter_line(total, received, uploaded, upload_total, elapsed) + "\n"


@dataclass
class WriteOutVars:
    http_code: int = 0
    time_total: float = 0.0
    time_namelookup: float = 0.0
    time_connect: float = 0.0
    time_starttransfer: float = 0.0
    remote_ip: str = ""
    remote_port: int = 0
    local_ip: str = ""
    local_port: int = 0
    size_download: int = 0
    size_header: int = 0
    size_upload: int = 0
    url_effective: str = ""
    content_type: str = ""
    num_redirects: int = 0
    method: str = "GET"
    exitcode: int = 0
    errormsg: str = ""
    redirect_url: str = ""
    scheme: str = "http"


VAR_RE = re.compile(r"%\{([a-z_]+)\}|%%|\\[nrt\\]")


def render_write_out(fmt: str, v: WriteOutVars) -> str:
    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "%%":
            return "%"
        if tok.startswith("\\"):
            return {"\\n": "\n", "\\r": "\r", "\\t": "\t", "\\\\": "\\"}[tok]
        name = m.group(1)
        if name in ("http_code", "response_code"):
            return f"{v.http_code:03d}"
        if name.startswith("time_"):
            return f"{getattr(v, name, 0.0):.6f}"
        if name == "errormsg":
            return v.errormsg
        if name == "scheme":
            return v.scheme.upper()
        if hasattr(v, name):
            return str(getattr(v, name))
        return ""

    return VAR_RE.sub(sub, fmt)
