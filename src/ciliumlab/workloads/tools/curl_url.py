"""curl's URL handling for the lab: default scheme http, host, port, path and query."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Url:
    scheme: str
    host: str
    port: int
    target: str  # path + query, as on the request line
    explicit_port: bool

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}" if self.explicit_port and self.port != DEFAULT_PORTS[self.scheme] else self.host

    def __str__(self) -> str:
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{self.host}{port}{self.target}"


URL_RE = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?:[^@/?#]*@)?(?P<host>\[[^\]]*\]|[^:/?#]*)"
                    r"(?::(?P<port>[^/?#]*))?(?P<path>/[^?#]*)?(?P<query>\?[^#]*)?(?:#.*)?$")


def parse_url(raw: str, base: Url | None = None) -> Url:
    """Parse like curl: a missing scheme means http (curl guesses from "ftp." etc.; not here)."""
    if base is not None and raw.startswith("/"):
        return Url(base.scheme, base.host, base.port, raw, base.explicit_port)
    m = URL_RE.match(raw.strip())
    if not m:
        raise UrlError(3, "URL rejected: Malformed input to a URL function")
    scheme = (m.group("scheme") or "http").lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlError(1, f'Protocol "{scheme}" not supported')
    host = m.group("host")
    if not host:
        raise UrlError(3, "URL rejected: No host part in the URL")
    port_s = m.group("port")
    if port_s is not None and port_s != "":
        if not port_s.isdigit() or int(port_s) > 65535:
            raise UrlError(3, "URL rejected: Port number was not a decimal number between 0 and 65535")
        port, explicit = int(port_s), True
    else:
        port, explicit = DEFAULT_PORTS[scheme], False
    target = (m.group("path") or "/") + (m.group("query") or "")
    return Url(scheme, host.lower(), port, target, explicit)
