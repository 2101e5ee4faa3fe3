"""Builders for name-based fields: source/destination FQDN globs, dns_query regexes and node
name patterns (Cilium's fqdn.go, nodename.go, on top of `patterns`)."""

from __future__ import annotations

from ciliumlab.hubble.types import FilterError, Flow, Predicate

from .patterns import compile_fqdn_patterns, compile_node_name_patterns, compile_re2


def build_fqdn(ff: dict) -> list[Predicate]:
    """`source_fqdn`/`destination_fqdn` (full match of any of Flow.*_names) and `dns_query`
    (unanchored regex on l7.dns.query; only flows carrying a DNS record)."""
    preds: list[Predicate] = []
    for side in ("source", "destination"):
        patterns = ff.get(f"{side}_fqdn")
        if not patterns:
            continue
        fullmatch = compile_fqdn_patterns(patterns).fullmatch

        def match(flow: Flow, _key: str = f"{side}_names", _fullmatch=fullmatch) -> bool:
            for name in flow.get(_key, ()):
                if _fullmatch(name):
                    return True
            return False

        preds.append(match)

    queries = ff.get("dns_query")
    if queries:
        try:
            searches = tuple(compile_re2(q).search for q in queries)
        except FilterError as exc:
            raise FilterError(f"invalid DNS query filter: failed to compile regexp: {exc}") from None

        def match_dns(flow: Flow) -> bool:
            dns = flow.get("l7", {}).get("dns")
            if dns is None:
                return False
            query = dns.get("query", "")
            for search in searches:
                if search(query):
                    return True
            return False

        preds.append(match_dns)
    return preds


def build_node_name(ff: dict) -> list[Predicate]:
    """`node_name`: `[cluster/]node` patterns; a flow node name without `/` is compared as
    `default/<node>` (the default cluster name), an empty node name never matches."""
    patterns = ff.get("node_name")
    if not patterns:
        return []
    fullmatch = compile_node_name_patterns(patterns).fullmatch

    def match(flow: Flow) -> bool:
        node = flow.get("node_name", "")
        if not node:
            return False
        if "/" not in node:
            node = "default/" + node
        return fullmatch(node) is not None

    return [match]
