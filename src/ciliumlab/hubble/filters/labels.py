"""Label selector filters: `source_label`, `destination_label`, `node_labels`.

Cilium (labels.go + pkg/labels) evaluates full Kubernetes label-selector syntax against the
flow's `source:key=value` label strings:

* Before parsing, every selector key gets a source: `k8s:app` becomes `k8s.app`, a bare `app`
  becomes `any.app` (translateSelector), because k8s selectors can't contain `:`.
* A key with source `any` matches a flow label of any source; any other source must be equal
  (`k8s:app=x` does not match `container:app=x`). Flow labels without a source (node labels
  are plain `key=value`) get source `any`, so only source-less selectors match them.
* `reserved:world` parses as key `world` with source `reserved` and works as an existence test.

The k8s grammar implemented here (labels.Parse): comma-separated requirements `k`, `!k`,
`k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>n`, `k<n`, with the same key/value
validation and error texts. Selectors compile once; flow label strings are parsed through a
cache because the same few label strings repeat on every flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ciliumlab.hubble.types import FilterError, Flow, Predicate

# ---------------------------------------------------------------- selector key translation


def _translate_key(key: str) -> str:
    if ":" not in key:
        return "any." + key
    return key.replace(":", ".", 1)


def translate_selector(selector: str) -> str:
    """Give every key in `selector` an explicit dot-separated source (Cilium's translateSelector)."""
    out: list[str] = []
    key: list[str] = []
    nesting = 0
    pre_key, parsing_key = True, False
    for ch in selector:
        if pre_key:
            if ch.isspace() or ch == "!":
                out.append(ch)
            else:
                pre_key, parsing_key = False, True
        if parsing_key:
            if ch.isspace() or ch in "=!,":
                out.append(_translate_key("".join(key)))
                key = []
                parsing_key = False
            else:
                key.append(ch)
        if not parsing_key and not pre_key:
            if ch == "," and nesting == 0:
                pre_key = True
            elif ch == "(":
                nesting += 1
            elif ch == ")":
                nesting -= 1
            out.append(ch)
    if parsing_key:
        out.append(_translate_key("".join(key)))
    return "".join(out)


# ---------------------------------------------------------------- k8s selector lexer/parser

_SPECIAL = "=!(),><"
_OPERATOR_TOKENS = {
    "!": "!",
    "!=": "!=",
    "=": "=",
    "==": "==",
    "(": "(",
    ")": ")",
    ",": ",",
    ">": ">",
    "<": "<",
}
_EOS, _IDENT, _ERROR = "EOS", "IDENT", "ERROR"

_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
_PREFIX_MSG = (
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _lex(text: str) -> list[tuple[str, str]]:
    """k8s selector tokens: (kind, literal). kind is an operator literal, IDENT, ERROR or EOS."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            tokens.append((_EOS, ""))
            return tokens
        ch = text[i]
        if ch in _SPECIAL:
            buf, last = "", None
            while i < n and text[i] in _SPECIAL:
                buf += text[i]
                if buf in _OPERATOR_TOKENS:
                    last = buf
                    i += 1
                elif last is not None:
                    break
                else:
                    i += 1
            if last is None:
                tokens.append((_ERROR, f"error expected: keyword found '{buf}'"))
                tokens.append((_EOS, ""))
                return tokens
            tokens.append((_OPERATOR_TOKENS[last], last))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
            i += 1
        word = text[start:i]
        tokens.append((word if word in ("in", "notin") else _IDENT, word))


def _invalid(field: str, value: str, detail: str) -> str:
    return f'{field}: Invalid value: "{value}": {detail}'


def _validate_key(key: str) -> None:
    parts = key.split("/")
    if len(parts) == 1:
        name, prefix = parts[0], None
    elif len(parts) == 2:
        prefix, name = parts
    else:
        raise FilterError(
            _invalid(
                "key",
                key,
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
                "subdomain prefix and '/' (e.g. 'example.com/MyName')",
            )
        )
    errs: list[str] = []
    if prefix is not None:
        if len(prefix) == 0:
            errs.append("prefix part must be non-empty")
        elif len(prefix) > 253:
            errs.append("prefix part must be no more than 253 characters")
        elif not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix):
            errs.append(_PREFIX_MSG)
    if len(name) == 0:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not _NAME_RE.fullmatch(name):
        errs.append(_NAME_MSG)
    if errs:
        raise FilterError(_invalid("key", key, "; ".join(errs)))


def _validate_value(index: int, value: str) -> None:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _VALUE_RE.fullmatch(value):
        errs.append(_VALUE_MSG)
    if errs:
        raise FilterError(_invalid(f"values[{index}]", value, "; ".join(errs)))


# A requirement: (operator, selector source, selector key, values)
Requirement = tuple[str, str, str, tuple[str, ...]]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def _tok(self, values: bool) -> tuple[str, str]:
        kind, lit = self.tokens[self.pos]
        if values and kind in ("in", "notin"):
            kind = _IDENT
        return kind, lit

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        return self._tok(values)

    def consume(self, values: bool = True) -> tuple[str, str]:
        tok = self._tok(values)
        if self.pos < len(self.tokens) - 1:
            self.pos += 1
        return tok

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            kind, lit = self.lookahead()
            if kind in (_IDENT, "!"):
                try:
                    reqs.append(_new_requirement(*self.requirement()))
                except FilterError as exc:
                    raise FilterError(f"unable to parse requirement: {exc}") from None
                kind, lit = self.consume()
                if kind == _EOS:
                    return reqs
                if kind == ",":
                    kind2, lit2 = self.lookahead()
                    if kind2 not in (_IDENT, "!"):
                        raise FilterError(f"found '{lit2}', expected: identifier after ','")
                    continue
                raise FilterError(f"found '{lit}', expected: ',' or 'end of string'")
            if kind == _EOS:
                return reqs
            raise FilterError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> tuple[str, str, list[str]]:
        operator = ""
        kind, lit = self.consume()
        if kind == "!":
            operator = "!"
            kind, lit = self.consume()
        if kind != _IDENT:
            raise FilterError(f"found '{lit}', expected: identifier")
        key = lit
        _validate_key(key)
        if self.lookahead()[0] in (_EOS, ","):
            return key, operator or "exists", []
        if operator == "!":
            return key, "!", []
        kind, lit = self.consume(values=False)
        if kind not in ("in", "notin", "=", "==", "!=", ">", "<"):
            raise FilterError(f"found '{lit}', expected: in, notin, =, ==, !=, gt, lt")
        operator = kind
        values = self.set_values() if operator in ("in", "notin") else self.exact_value()
        return key, operator, values

    def set_values(self) -> list[str]:
        kind, lit = self.consume()
        if kind != "(":
            raise FilterError(f"found '{lit}' expected: '('")
        kind, lit = self.lookahead()
        if kind in (_IDENT, ","):
            values = self.identifiers()
            kind2, _ = self.consume()
            if kind2 != ")":
                raise FilterError(f"found '{lit}', expected: ')'")
            return values
        if kind == ")":
            self.consume()
            return [""]
        raise FilterError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> list[str]:
        values: list[str] = []
        while True:
            kind, lit = self.consume()
            if kind == _IDENT:
                values.append(lit)
                kind2, lit2 = self.lookahead()
                if kind2 == ",":
                    continue
                if kind2 == ")":
                    return values
                raise FilterError(f"found '{lit2}', expected: ',' or ')'")
            if kind == ",":
                if not values:
                    values.append("")
                kind2, _ = self.lookahead()
                if kind2 == ")":
                    values.append("")
                    return values
                if kind2 == ",":
                    self.consume()
                    values.append("")
                continue
            raise FilterError(f"found '{lit}', expected: ',' or identifier")

    def exact_value(self) -> list[str]:
        kind, _ = self.lookahead()
        if kind in (_EOS, ","):
            return [""]
        kind, lit = self.consume()
        if kind == _IDENT:
            return [lit]
        raise FilterError(f"found '{lit}', expected: identifier")


def _new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """Validate like k8s NewRequirement and split the key into (source, key)."""
    unique = tuple(sorted(set(values)))
    if operator in ("in", "notin"):
        if not unique:
            raise FilterError("for 'in', 'notin' operators, values set can't be empty")
    elif operator in ("=", "==", "!="):
        if len(unique) != 1:
            raise FilterError("exact-match compatibility requires one single value")
    elif operator in (">", "<"):
        if len(unique) != 1:
            raise FilterError("for 'Gt', 'Lt' operators, exactly one value is required")
        if not re.fullmatch(r"[+-]?\d+", unique[0]):
            raise FilterError("for 'Gt', 'Lt' operators, the value must be an integer")
    for i, value in enumerate(unique):
        _validate_value(i, value)
    source, label_key = parse_label(key, ".")[:2]
    if source == "unspec":
        source = "any"
    return operator, source, label_key, unique


def parse_selector(selector: str) -> tuple[Requirement, ...]:
    """Cilium selector string -> requirements (all must hold). Raises FilterError."""
    return tuple(_Parser(translate_selector(selector)).parse())


# ---------------------------------------------------------------- flow labels and matching


@lru_cache(maxsize=4096)
def parse_label(text: str, delim: str = ":") -> tuple[str, str, str]:
    """`source:key=value` -> (source, key, value); no source -> "unspec" (Cilium parseLabel).

    `$host` is shorthand for `reserved:host`. Cached: flows repeat the same label strings.
    """
    if text.startswith("$"):
        source, rest = "reserved", text[1:]
    else:
        i = text.find(delim)
        if i < 0:
            source, rest = "", text
        else:
            source, rest = text[:i], text[i + 1 :]
    if not source:
        source = "unspec"
    j = rest.find("=")
    if j < 0:
        return source, rest, ""
    if j == 0 and source == "reserved":
        return source, rest[1:], ""
    return source, rest[:j], rest[j + 1 :]


def _lookup(labels: list[str], source: str, key: str) -> tuple[bool, str]:
    """Cilium LabelArray lookup: first label with that key whose source matches (`any` = all)."""
    for text in labels:
        lsource, lkey, lvalue = parse_label(text)
        if lkey == key and (source == "any" or lsource == source):
            return True, lvalue
    return False, ""


def _requirement_matches(req: Requirement, labels: list[str]) -> bool:
    operator, source, key, values = req
    exists, value = _lookup(labels, source, key)
    if operator in ("=", "==", "in"):
        return exists and value in values
    if operator in ("!=", "notin"):
        return not exists or value not in values
    if operator == "exists":
        return exists
    if operator == "!":
        return not exists
    if not exists:  # > and <
        return False
    try:
        have = int(value)
    except ValueError:
        return False
    want = int(values[0])
    return have > want if operator == ">" else have < want


def filter_by_label_selectors(selectors: list[str], get_labels: Callable[[Flow], list[str]]) -> Predicate:
    """Any selector matching the labels from `get_labels` (OR); requirements within one AND."""
    parsed = tuple(parse_selector(s) for s in selectors)

    def match(flow: Flow) -> bool:
        labels = get_labels(flow)
        for reqs in parsed:
            for req in reqs:
                if not _requirement_matches(req, labels):
                    break
            else:
                return True
        return False

    return match


def build_labels(ff: dict) -> list[Predicate]:
    """`source_label`, `destination_label`, `node_labels`."""
    preds: list[Predicate] = []
    for field, what, getter in (
        ("source_label", "source label", lambda flow: (flow.get("source") or {}).get("labels", ())),
        (
            "destination_label",
            "destination label",
            lambda flow: (flow.get("destination") or {}).get("labels", ()),
        ),
        ("node_labels", "node label", lambda flow: flow.get("node_labels", ())),
    ):
        selectors = ff.get(field)
        if not selectors:
            continue
        try:
            preds.append(filter_by_label_selectors(selectors, getter))
        except FilterError as exc:
            raise FilterError(f"invalid {what} filter: {exc}") from None
    return preds
