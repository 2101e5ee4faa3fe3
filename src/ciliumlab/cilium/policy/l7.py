"""L7 rule sets attached to port entries, and their merge for one (peer, port) (spec §12.2).

`L7Spec` is what a single toPorts item carries; `L7Policy` is what a verdict hands to the
proxy: the union of the specs of every allow entry matching the flow, or allow-all when some
matching allow entry has no L7 restriction (an L3-only or L4-only allow shadows L7 rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from .fqdn import FQDNSelector
from .http import HTTPRule


@dataclass(frozen=True)
class L7Spec:
    parser: str  # "http" | "dns" | "kafka" | <l7proto>
    http: tuple[HTTPRule, ...] = ()
    dns: tuple[FQDNSelector, ...] = ()
    generic: tuple[tuple[tuple[str, str], ...], ...] = ()  # kafka / l7proto key-value rules
    allow_all: bool = False  # an explicit wildcard rule (`{}` / `*`) or empty rule list

    @classmethod
    def from_rules(cls, rules: dict | None) -> L7Spec | None:
        """`toPorts[].rules` -> L7Spec; None when there are no L7 rules."""
        if not rules:
            return None
        if rules.get("http") is not None:
            http = tuple(HTTPRule.from_dict(r or {}) for r in rules["http"])
            return cls("http", http=http, allow_all=not http)
        if rules.get("dns") is not None:
            dns = tuple(FQDNSelector.from_dict(r or {}) for r in rules["dns"])
            return cls("dns", dns=dns, allow_all=not dns)
        if rules.get("kafka") is not None:
            gen = tuple(tuple(sorted((str(k), str(v)) for k, v in (r or {}).items())) for r in rules["kafka"])
            return cls("kafka", generic=gen, allow_all=not gen)
        if rules.get("l7proto"):
            gen = tuple(tuple(sorted((str(k), str(v)) for k, v in (r or {}).items()))
                        for r in rules.get("l7") or [])
            return cls(str(rules["l7proto"]), generic=gen, allow_all=not gen)
        return None


class L7Policy:
    """Merged L7 rules for one (direction, peer, port): what the proxy enforces."""

    __slots__ = ("parser", "allow_all", "http", "dns", "generic")

    def __init__(self, parser: str, allow_all: bool, http=(), dns=(), generic=()) -> None:
        self.parser = parser
        self.allow_all = allow_all
        self.http: tuple[HTTPRule, ...] = tuple(http)
        self.dns: tuple[FQDNSelector, ...] = tuple(dns)
        self.generic = tuple(generic)

    @classmethod
    def merge(cls, specs: list[L7Spec], shadowed: bool) -> L7Policy:
        """Union of specs; `shadowed` = a matching allow without L7 exists (allow everything)."""
        parser = specs[0].parser
        allow_all = shadowed or any(s.allow_all for s in specs)
        http, dns, gen = [], [], []
        for s in specs:
            if s.parser != parser:
                continue
            http.extend(s.http)
            dns.extend(s.dns)
            gen.extend(s.generic)
        return cls(parser, allow_all, http, dns, gen)

    def allows_http(self, method: str, path: str, host: str, headers: list[tuple[str, str]] = ()) -> bool:
        if self.allow_all:
            return True
        return any(r.matches(method, path, host, list(headers)) for r in self.http)

    def allows_dns(self, qname: str) -> bool:
        if self.allow_all:
            return True
        return any(s.matches(qname) for s in self.dns)

    def allows_generic(self, fields: dict[str, str]) -> bool:
        if self.allow_all:
            return True
        return any(all(fields.get(k) == v for k, v in rule) for rule in self.generic)

    def __repr__(self) -> str:
        if self.allow_all:
            return f"L7Policy({self.parser}, allow-all)"
        rules = self.http or self.dns or self.generic
        return f"L7Policy({self.parser}, {len(rules)} rules)"
