"""`experimental.cel_expression`: a small, safe subset of CEL over the variable `_flow`.

Real Cilium compiles full CEL (cel-go) against the `flow.Flow` proto. Pulling in a CEL engine
is not worth it for the expressions people actually write with `--cel-expression`, so this
module implements a tiny interpreter (no `eval`, no attribute access beyond dict lookups):

* field paths with proto names: `_flow.verdict`, `_flow.source.namespace`, `_flow.l4.TCP.destination_port`
* enum constants, optionally qualified by the `flow` container: `Verdict.DROPPED`,
  `flow.TrafficDirection.INGRESS`; enum fields evaluate to numbers, as in CEL
* literals: strings ('..' or ".."), ints (optional `u` suffix), `true`, `false`, `null`, lists `[..]`
* operators: `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `!`, `&&`, `||`, parentheses
* `has(_flow.a.b)`, and string methods `startsWith`, `endsWith`, `contains`, `matches` (RE2)

Absent fields read as the zero value of what they are compared with (proto3 semantics:
`_flow.source.namespace == ""` is true for a flow without source). Anything outside the subset
is a request error (`error compiling CEL expression: ...`), never a silent mismatch. Several
expressions in one filter are OR-ed, as in Cilium.
"""

from __future__ import annotations

import re
from typing import Any

from ciliumlab.hubble.types import FilterError, Flow, Predicate

from .enums import ENUMS
from .patterns import compile_re2

# Flow fields (paths of proto names) holding enums, evaluated as numbers like CEL does.
_ENUM_FIELDS = {
    ("verdict",): "Verdict",
    ("drop_reason_desc",): "DropReason",
    ("traffic_direction",): "TrafficDirection",
    ("IP", "ipVersion"): "IPVersion",
    ("Type",): "FlowType",
    ("trace_observation_point",): "TraceObservationPoint",
    ("trace_reason",): "TraceReason",
    ("auth_type",): "AuthType",
    ("l7", "type"): "L7FlowType",
}
_UINT64_FIELDS = {("l7", "latency_ns"), ("ip_trace_id", "trace_id"), ("socket_cookie",), ("cgroup_id",)}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+u?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>!().,\[\]])|(?P<id>[A-Za-z_][A-Za-z0-9_]*))"
)

_MISSING = object()


def _err(expr: str, msg: str) -> FilterError:
    return FilterError(f"error compiling CEL expression: ERROR: <input>: {msg} (in {expr!r})")


def _tokenize(expr: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i = 0
    while i < len(expr):
        if expr[i:].strip() == "":
            break
        m = _TOKEN.match(expr, i)
        if not m or m.end() == i:
            raise _err(expr, f"Syntax error: token recognition error at: {expr[i:].strip()[:1]!r}")
        i = m.end()
        if m.group("num"):
            tokens.append(("lit", int(m.group("num").rstrip("u"))))
        elif m.group("str"):
            raw = m.group("str")
            tokens.append(("lit", bytes(raw[1:-1], "utf-8").decode("unicode_escape")))
        elif m.group("op"):
            tokens.append(("op", m.group("op")))
        else:
            word = m.group("id")
            if word in ("true", "false"):
                tokens.append(("lit", word == "true"))
            elif word == "null":
                tokens.append(("lit", None))
            elif word == "in":
                tokens.append(("op", "in"))
            else:
                tokens.append(("id", word))
    tokens.append(("eof", None))
    return tokens


class _Parser:
    """Recursive descent into a tuple AST: ("lit", v) ("path", parts) ("not", x) ("and"/"or", a, b)
    ("cmp", op, a, b) ("has", parts) ("call", method, target, arg) ("list", items)."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.i]

    def take(self, kind: str, value: Any = None) -> Any:
        tok = self.tokens[self.i]
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise _err(self.expr, f"Syntax error: unexpected {tok[1]!r}, expected {value or kind}")
        self.i += 1
        return tok[1]

    def parse(self) -> tuple:
        node = self.or_()
        if self.peek()[0] != "eof":
            raise _err(self.expr, f"Syntax error: unexpected {self.peek()[1]!r}")
        return node

    def or_(self) -> tuple:
        node = self.and_()
        while self.peek() == ("op", "||"):
            self.i += 1
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.unary()
        while self.peek() == ("op", "&&"):
            self.i += 1
            node = ("and", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == ("op", "!"):
            self.i += 1
            return ("not", self.unary())
        return self.comparison()

    def comparison(self) -> tuple:
        left = self.primary()
        kind, value = self.peek()
        if kind == "op" and value in ("==", "!=", "<", "<=", ">", ">=", "in"):
            self.i += 1
            return ("cmp", value, left, self.primary())
        return left

    def primary(self) -> tuple:
        kind, value = self.peek()
        if kind == "lit":
            self.i += 1
            return ("lit", value)
        if (kind, value) == ("op", "("):
            self.i += 1
            node = self.or_()
            self.take("op", ")")
            return node
        if (kind, value) == ("op", "["):
            self.i += 1
            items = []
            while self.peek() != ("op", "]"):
                items.append(self.primary())
                if self.peek() == ("op", ","):
                    self.i += 1
            self.i += 1
            return ("list", tuple(items))
        if kind == "id":
            return self.reference()
        raise _err(self.expr, f"Syntax error: unexpected {value!r}")

    def reference(self) -> tuple:
        first = self.take("id")
        if first == "has" and self.peek() == ("op", "("):
            self.i += 1
            node = self.reference()
            self.take("op", ")")
            if node[0] != "path":
                raise _err(self.expr, "invalid argument to has() macro")
            return ("has", node[1])
        parts = [first]
        while self.peek() == ("op", "."):
            self.i += 1
            name = self.take("id")
            if self.peek() == ("op", "("):
                self.i += 1
                arg = self.or_()
                self.take("op", ")")
                if name not in ("startsWith", "endsWith", "contains", "matches"):
                    raise _err(
                        self.expr, f"undeclared reference to '{name}' (not in the supported CEL subset)"
                    )
                target = self._resolve(parts)
                if name == "matches":
                    if arg[0] != "lit" or not isinstance(arg[1], str):
                        raise _err(self.expr, "matches() needs a string literal in the supported CEL subset")
                    try:
                        arg = ("regex", compile_re2(arg[1]).search)
                    except FilterError as exc:
                        raise _err(self.expr, str(exc)) from None
                return ("call", name, target, arg)
            parts.append(name)
        return self._resolve(parts)

    def _resolve(self, parts: list[str]) -> tuple:
        if parts[0] == "_flow":
            return ("path", tuple(parts[1:]))
        names = parts[1:] if parts[0] == "flow" else parts
        if len(names) == 2 and names[0] in ENUMS and names[1] in ENUMS[names[0]]:
            return ("lit", ENUMS[names[0]][names[1]])
        raise _err(self.expr, f"undeclared reference to '{'.'.join(parts)}' (in container 'flow')")


def _get(flow: Flow, path: tuple[str, ...]) -> Any:
    node: Any = flow
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    enum = _ENUM_FIELDS.get(path)
    if enum is not None and isinstance(node, str):
        return ENUMS[enum].get(node, node)
    if path in _UINT64_FIELDS and isinstance(node, str) and node.isdigit():
        return int(node)
    return node


def _zero_like(other: Any) -> Any:
    if isinstance(other, bool):
        return False
    if isinstance(other, int):
        return 0
    if isinstance(other, str):
        return ""
    return None


def _eval(node: tuple, flow: Flow) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        value = _get(flow, node[1])
        return None if value is _MISSING else value
    if kind == "has":
        value = _get(flow, node[1])
        return value is not _MISSING and value not in ("", 0, False, None, [], {})
    if kind == "not":
        return not _eval(node[1], flow)
    if kind == "and":
        return bool(_eval(node[1], flow)) and bool(_eval(node[2], flow))
    if kind == "or":
        return bool(_eval(node[1], flow)) or bool(_eval(node[2], flow))
    if kind == "list":
        return [_eval(item, flow) for item in node[1]]
    if kind == "call":
        target = _eval(node[2], flow)
        target = "" if target is None else str(target)
        if node[1] == "matches":
            return node[3][1](target) is not None
        arg = _eval(node[3], flow)
        arg = "" if arg is None else str(arg)
        return {
            "startsWith": target.startswith,
            "endsWith": target.endswith,
            "contains": target.__contains__,
        }[node[1]](arg)
    # comparison
    op, left, right = node[1], _eval(node[2], flow), _eval(node[3], flow)
    if op == "in":
        if left is None and isinstance(right, list) and right:
            left = _zero_like(right[0])
        return isinstance(right, list) and left in right
    if left is None and right is not None:
        left = _zero_like(right)
    elif right is None and left is not None:
        right = _zero_like(left)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    try:
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    except TypeError:
        return False


def _check_bool(expr: str, node: tuple) -> None:
    """CEL requires a bool result; reject obvious non-bool roots like CEL's type checker."""
    if node[0] == "lit" and not isinstance(node[1], bool):
        kind = "string" if isinstance(node[1], str) else ("null_type" if node[1] is None else "int")
        raise FilterError(f'error compiling CEL expression: got "{kind}", wanted "bool" result type')
    if node[0] == "list":
        raise FilterError('error compiling CEL expression: got "list(dyn)", wanted "bool" result type')


def compile_cel(expr: str) -> Predicate:
    """One CEL expression -> predicate (compiled once)."""
    ast = _Parser(expr).parse()
    _check_bool(expr, ast)

    def match(flow: Flow) -> bool:
        return _eval(ast, flow) is True

    return match


def build_cel(ff: dict) -> list[Predicate]:
    """`experimental.cel_expression`: expressions OR-ed."""
    exprs = ff.get("experimental", {}).get("cel_expression")
    if not exprs:
        return []
    programs = tuple(compile_cel(e) for e in exprs)

    def match(flow: Flow) -> bool:
        for program in programs:
            if program(flow):
                return True
        return False

    return [match]
