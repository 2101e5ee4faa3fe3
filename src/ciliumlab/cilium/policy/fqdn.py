"""DNS name matching for `toFQDNs` and L7 DNS rules (pkg/fqdn/matchpattern; spec §9).

Names and patterns are compared lower-cased and fully qualified (trailing dot). In patterns
`**.` as a prefix means one or more whole labels, every other `*` run means zero or more
characters of `[-a-zA-Z0-9_]` (never a dot), and a pattern of only stars matches every name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..labels import Label

_LABEL_CHARS = "[-a-zA-Z0-9_]"
ALLOWED_MATCHNAME = re.compile(r"^[-a-zA-Z0-9_.]+$")
ALLOWED_PATTERN = re.compile(r"^[-a-zA-Z0-9_.*]+$")


def fqdn(name: str) -> str:
    """Lower-case, fully-qualified form (`API.GitHub.com` -> `api.github.com.`)."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


@lru_cache(maxsize=4096)
def pattern_regex(pattern: str) -> re.Pattern:
    """The anchored regex for a matchPattern."""
    p = fqdn(pattern)
    if p.replace("*", "").replace(".", "") == "":  # only stars (e.g. `*`, `**`, `*.`): all names
        return re.compile(r"^.*$")
    out = ["^"]
    i = 0
    if p.startswith("**."):
        out.append(r"(" + _LABEL_CHARS + r"+\.)+")
        i = 3
    while i < len(p):
        c = p[i]
        if c == "*":
            while i < len(p) and p[i] == "*":
                i += 1
            out.append(_LABEL_CHARS + "*")
            continue
        out.append(re.escape(c))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def match_pattern(pattern: str, name: str) -> bool:
    return pattern_regex(pattern).match(fqdn(name)) is not None


class FQDNSelector:
    """One `toFQDNs` / DNS-rule item: exactly one of matchName / matchPattern."""

    __slots__ = ("match_name", "match_pattern", "_name")

    def __init__(self, match_name: str = "", match_pattern: str = "") -> None:
        self.match_name = (match_name or "").strip().lower()
        self.match_pattern = (match_pattern or "").strip().lower()
        self._name = fqdn(self.match_name) if self.match_name else ""

    @classmethod
    def from_dict(cls, d: dict) -> FQDNSelector:
        return cls(str(d.get("matchName") or ""), str(d.get("matchPattern") or ""))

    def matches(self, name: str) -> bool:
        if self.match_name:
            return fqdn(name) == self._name
        if self.match_pattern:
            return match_pattern(self.match_pattern, name)
        return False

    @property
    def label(self) -> Label:
        """The identity label the lab gives IPs learned for names this selector matches."""
        return Label("fqdn", self.match_name or self.match_pattern, "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FQDNSelector) and (self.match_name, self.match_pattern) == (
            other.match_name, other.match_pattern)

    def __hash__(self) -> int:
        return hash((self.match_name, self.match_pattern))

    def __repr__(self) -> str:
        if self.match_name:
            return f"FQDNSelector(matchName={self.match_name!r})"
        return f"FQDNSelector(matchPattern={self.match_pattern!r})"


def validate_fqdn_selector(d: dict) -> str | None:
    """FQDNSelector.Validate wording."""
    name = d.get("matchName") or ""
    pattern = d.get("matchPattern") or ""
    if name and pattern:
        return "only one of MatchName or MatchPattern is allowed in an FQDNSelector"
    if name and not ALLOWED_MATCHNAME.match(str(name)):
        return (f'Invalid characters in MatchName: "{name}". Only 0-9, a-z, A-Z and . and - '
                "characters are allowed")
    if pattern and not ALLOWED_PATTERN.match(str(pattern)):
        return (f'Invalid characters in MatchPattern: "{pattern}". Only 0-9, a-z, A-Z and ., - '
                "and * characters are allowed")
    return None
