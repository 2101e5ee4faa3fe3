"""curl command-line parsing: short clusters (``-sSL``, ``-XPOST``), long options, ``--opt=value``."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Short options that take a value, and their long names.
SHORT_WITH_ARG = {
    "X": "request", "H": "header", "d": "data", "o": "output", "w": "write-out", "m": "max-time",
    "A": "user-agent", "u": "user", "e": "referer", "b": "cookie", "c": "cookie-jar", "x": "proxy",
    "r": "range", "T": "upload-file", "F": "form", "K": "config", "E": "cert", "C": "continue-at",
    "Y": "speed-limit", "y": "speed-time", "z": "time-cond",
}
SHORT_FLAGS = {
    "s": "silent", "S": "show-error", "v": "verbose", "I": "head", "L": "location", "k": "insecure",
    "i": "include", "f": "fail", "4": "ipv4", "6": "ipv6", "N": "no-buffer", "G": "get", "#": "progress-bar",
    "q": "disable", "O": "remote-name", "j": "junk-session-cookies", "n": "netrc", "g": "globoff",
    "l": "list-only", "R": "remote-time", "0": "http1.0", "2": "sslv2", "3": "sslv3",
}
LONG_WITH_ARG = set(SHORT_WITH_ARG.values()) | {
    "data-raw", "data-binary", "data-ascii", "data-urlencode", "connect-timeout", "max-redirs",
    "resolve", "retry", "retry-delay", "retry-max-time", "cacert", "key", "interface", "dns-servers",
    "url", "max-filesize", "limit-rate", "connect-to", "unix-socket", "oauth2-bearer", "json",
    "expect100-timeout", "keepalive-time", "local-port", "output-dir", "happy-eyeballs-timeout-ms",
}
LONG_FLAGS = set(SHORT_FLAGS.values()) | {
    "fail-with-body", "compressed", "http1.1", "http2", "no-progress-meter", "no-keepalive",
    "insecure", "silent", "show-error", "raw", "tcp-nodelay", "post301", "post302", "post303",
    "location-trusted", "globoff", "fail-early", "no-buffer", "styled-output", "no-styled-output",
    "path-as-is", "http0.9", "ssl-no-revoke", "tlsv1.2", "tlsv1.3", "trace-time", "remote-name-all",
}


class CurlUsage(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class CurlOptions:
    urls: list[str] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)  # (long name, value) in order
    flags: set[str] = field(default_factory=set)

    def get(self, name: str) -> str | None:
        found = [v for k, v in self.values if k == name]
        return found[-1] if found else None

    def all(self, *names: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.values if k in names]


def parse_args(args: list[str]) -> CurlOptions:
    opts = CurlOptions()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a.startswith("--") and len(a) > 2:
            name, eq, value = a[2:].partition("=")
            negated = name.startswith("no-") and name[3:] in LONG_FLAGS
            if name in LONG_WITH_ARG:
                if not eq:
                    if i >= len(args):
                        raise CurlUsage(f"option --{name}: requires parameter")
                    value = args[i]
                    i += 1
                if name == "url":
                    opts.urls.append(value)
                else:
                    opts.values.append((name, value))
            elif name in LONG_FLAGS:
                opts.flags.add(name)
            elif negated:
                opts.flags.discard(name[3:])
            else:
                raise CurlUsage(f"option --{name}: is unknown")
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in SHORT_WITH_ARG:
                    value = a[j + 1:]
                    if not value:
                        if i >= len(args):
                            raise CurlUsage(f"option -{c}: requires parameter")
                        value = args[i]
                        i += 1
                    opts.values.append((SHORT_WITH_ARG[c], value))
                    break
                if c in SHORT_FLAGS:
                    opts.flags.add(SHORT_FLAGS[c])
                    j += 1
                    continue
                raise CurlUsage(f"option -{a[j:]}: is unknown")
            continue
        opts.urls.append(a)
    return opts


def parse_seconds(name: str, value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise CurlUsage(f"option --{name}: expected a proper numerical parameter") from None
    if v < 0:
        raise CurlUsage(f"option --{name}: expected a proper numerical parameter")
    return v
