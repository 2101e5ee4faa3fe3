"""HTTP L7 rules (spec §12.1): RE2 full-match on method/path/host, header presence/values.

Cilium validates the regexes with Go's `regexp` at admission and Envoy matches them anchored
at both ends (safe_regex). Python's `re` is close enough to RE2 for the patterns policies use;
`go_regexp_error` reproduces Go's error text for the common syntax errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MISMATCH_ACTIONS = ("LOG", "ADD", "DELETE", "REPLACE")
_REPEAT = "*+?"


def go_regexp_error(expr: str) -> str | None:
    """The error `regexp.Compile(expr)` returns in Go, or None if it compiles."""
    depth = 0
    can_repeat = False  # is there an operand to the left?
    last_was_repeat = False
    i = 0
    n = len(expr)
    while i < n:
        c = expr[i]
        if c == "\\":
            if i + 1 >= n:
                return "error parsing regexp: trailing backslash at end of expression: ``"
            nxt = expr[i + 1]
            if nxt.isalnum() and nxt not in "dDsSwWbBAzpPQEx0123456789afnrtv" or nxt in "123456789":
                return f"error parsing regexp: invalid escape sequence: `\\{nxt}`"
            i += 2
            can_repeat, last_was_repeat = True, False
            continue
        if c == "[":
            j = i + 1
            if j < n and expr[j] == "^":
                j += 1
            if j < n and expr[j] == "]":
                j += 1
            while j < n and expr[j] != "]":
                j += 2 if expr[j] == "\\" else 1
            if j >= n:
                return f"error parsing regexp: missing closing ]: `{expr[i:]}`"
            i = j + 1
            can_repeat, last_was_repeat = True, False
            continue
        if c == "(":
            depth += 1
            if expr.startswith("(?", i):
                m = re.match(r"\(\?(P?<[A-Za-z0-9_]+>|[imsU-]*:|[imsU-]+\))", expr[i:])
                if not m:
                    return f"error parsing regexp: invalid or unsupported Perl syntax: `{expr[i:i + 3]}`"
                if m.group(0).endswith(")"):
                    depth -= 1
                i += len(m.group(0))
            else:
                i += 1
            can_repeat, last_was_repeat = False, False
            continue
        if c == ")":
            if depth == 0:
                return f"error parsing regexp: unexpected ): `{expr}`"
            depth -= 1
            i += 1
            can_repeat, last_was_repeat = True, False
            continue
        if c == "|":
            i += 1
            can_repeat, last_was_repeat = False, False
            continue
        if c in _REPEAT or (c == "{" and re.match(r"\{\d+(,\d*)?\}", expr[i:])):
            op = c if c != "{" else re.match(r"\{\d+(,\d*)?\}", expr[i:]).group(0)
            end = i + len(op)
            if end < n and expr[end] == "?":
                op += "?"
                end += 1
            if not can_repeat:
                return f"error parsing regexp: missing argument to repetition operator: `{op}`"
            if last_was_repeat:
                return f"error parsing regexp: invalid nested repetition operator: `{expr[i - 1:end]}`"
            i = end
            last_was_repeat = True
            continue
        i += 1
        can_repeat, last_was_repeat = c not in "^$", False
        if c in "^$":
            can_repeat = True  # Go allows `^*` (repeat of empty-width)
    if depth > 0:
        return f"error parsing regexp: missing closing ): `{expr}`"
    try:
        re.compile(expr)
    except re.error:
        return f"error parsing regexp: invalid regexp: `{expr}`"
    return None


def compile_full(expr: str) -> re.Pattern | None:
    """Anchored matcher for a rule field; empty field = matches everything (None)."""
    if not expr:
        return None
    return re.compile(r"(?:" + expr + r")\Z", re.DOTALL)


@dataclass(frozen=True)
class HTTPRule:
    method: str = ""
    path: str = ""
    host: str = ""
    headers: tuple[tuple[str, str | None], ...] = ()  # (lower name, exact value or None)
    header_matches: tuple[tuple[str, str | None, str], ...] = ()  # (lower name, value, mismatch)

    @classmethod
    def from_dict(cls, d: dict) -> HTTPRule:
        headers = []
        for h in d.get("headers") or []:
            text = str(h)
            name, sep, value = text.partition(" ")
            name = name.rstrip(":")
            headers.append((name.lower(), value if sep else None))
        hms = []
        for hm in d.get("headerMatches") or []:
            value = hm.get("value")
            hms.append((str(hm.get("name", "")).lower(), None if value is None else str(value),
                        str(hm.get("mismatch") or "")))
        return cls(str(d.get("method") or ""), str(d.get("path") or ""), str(d.get("host") or ""),
                   tuple(headers), tuple(hms))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_m", compile_full(self.method))
        object.__setattr__(self, "_p", compile_full(self.path))
        object.__setattr__(self, "_h", compile_full(self.host))

    def matches(self, method: str, path: str, host: str, headers: list[tuple[str, str]]) -> bool:
        if self._m is not None and not self._m.match(method):
            return False
        if self._p is not None and not self._p.match(path):
            return False
        if self._h is not None and not self._h.match(host):
            return False
        if self.headers or self.header_matches:
            have: dict[str, list[str]] = {}
            for k, v in headers:
                have.setdefault(k.lower(), []).append(v)
            for name, value in self.headers:
                if name not in have or (value is not None and value not in have[name]):
                    return False
            for name, value, mismatch in self.header_matches:
                ok = name in have and (value is None or value in have[name])
                if not ok and not mismatch:  # a mismatch action logs/rewrites instead of denying
                    return False
        return True


def validate_http_rule(d: dict) -> str | None:
    """PortRuleHTTP.Validate wording."""
    for fld in ("path", "method", "host"):
        expr = d.get(fld)
        if expr:
            err = go_regexp_error(str(expr))
            if err:
                return err
    for hm in d.get("headerMatches") or []:
        if not hm.get("name"):
            return "Header name missing"
        mismatch = hm.get("mismatch")
        if mismatch and mismatch not in MISMATCH_ACTIONS:
            return f"Invalid header action: {mismatch}"
        secret = hm.get("secret")
        if secret is not None and not (secret or {}).get("name"):
            return "Secret name missing"
    return None
