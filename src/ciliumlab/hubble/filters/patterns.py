"""FQDN / node-name glob patterns and Go-RE2 regexes, compiled to Python `re` once.

Cilium (`pkg/hubble/filters/patterns.go`) turns `--fqdn`/`--node-name` globs into one anchored
regex: patterns are trimmed, lower-cased and lose one trailing dot; `*` becomes `[-.0-9a-z]*`;
only `[-0-9_a-z.*]` are allowed. Node-name patterns are `cluster/node` with either half empty
meaning "any FQDN". User regexes (`dns_query`, `http_path`, `http_url`) are RE2 in Cilium; the
RE2 subset people use is also valid Python `re`, apart from `\\z` which we translate.
"""

from __future__ import annotations

import re

from ciliumlab.hubble.types import FilterError

# Matches one FQDN (underscores allowed), used for an empty cluster or node half.
FQDN_REGEX = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)"


def go_quote_rune(ch: str) -> str:
    """Go's %q for a rune: 'x', with escapes for quotes and non-printables."""
    if ch == "'":
        return "'\\''"
    if ch == "\\":
        return "'\\\\'"
    if ch.isprintable():
        return f"'{ch}'"
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    if ch in named:
        return f"'{named[ch]}'"
    code = ord(ch)
    return (
        f"'\\x{code:02x}'" if code < 0x80 else (f"'\\u{code:04x}'" if code < 0x10000 else f"'\\U{code:08x}'")
    )


def fqdn_pattern_regex(pattern: str) -> str:
    """Regex text for one FQDN glob (Cilium's appendFQDNPatternRegexp)."""
    pattern = pattern.strip()
    if pattern.endswith("."):
        pattern = pattern[:-1]
    pattern = pattern.lower()
    if pattern == "":
        raise FilterError("empty pattern")
    if pattern.endswith("."):
        raise FilterError("multiple trailing dots in pattern")
    out = []
    for ch in pattern:
        if ch == ".":
            out.append(r"\.")
        elif ch == "*":
            out.append(r"[-.0-9a-z]*")
        elif ch == "-" or ch == "_" or "0" <= ch <= "9" or "a" <= ch <= "z":
            out.append(ch)
        else:
            raise FilterError(f"{go_quote_rune(ch)}: invalid rune in pattern")
    return "".join(out)


def node_name_pattern_regex(pattern: str) -> str:
    """Regex text for one node-name pattern `[cluster/]node` (appendNodeNamePatternRegexp)."""
    if pattern == "":
        raise FilterError("empty pattern")
    parts = pattern.split("/")
    if len(parts) == 1:
        cluster, node = "", parts[0]
    elif len(parts) == 2:
        cluster, node = parts
    else:
        raise FilterError("too many slashes in pattern")
    cluster_re = FQDN_REGEX if cluster == "" else fqdn_pattern_regex(cluster)
    node_re = FQDN_REGEX if node == "" else fqdn_pattern_regex(node)
    return f"{cluster_re}/{node_re}"


def compile_fqdn_patterns(patterns: list[str]) -> re.Pattern[str]:
    """One full-match regex for a list of FQDN globs (OR)."""
    return re.compile("(?:" + "|".join(fqdn_pattern_regex(p) for p in patterns) + ")")


def compile_node_name_patterns(patterns: list[str]) -> re.Pattern[str]:
    """One full-match regex for a list of node-name patterns (OR)."""
    return re.compile("(?:" + "|".join(node_name_pattern_regex(p) for p in patterns) + ")")


def compile_re2(pattern: str) -> re.Pattern[str]:
    """Compile a user RE2 regex with Python `re`; raises FilterError with Go-like text.

    RE2's `\\z` (end of text) is Python's `\\Z`; everything else people write for these filters
    (anchors, classes, alternation, repetition, `(?i)`) means the same in both.
    """
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise FilterError(f"error parsing regexp: {exc.msg}: `{pattern}`") from None
