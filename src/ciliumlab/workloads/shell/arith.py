"""``$(( … ))`` evaluation: integers, variables, C operators (no ternary), assignment.

Enough for loop counters (``i=$((i+1))``) and small computations in lab scripts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TOKEN_RE = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|[-+*/%()<>!~&|^=]))")

BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9,
    "*": 10, "/": 10, "%": 10, "**": 11,
}


class ArithError(Exception):
    pass


def evaluate(src: str, get: Callable[[str], str], set_: Callable[[str, str], None]) -> int:
    tokens: list[str] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = TOKEN_RE.match(src, pos)
        if not m or m.end() == pos:
            raise ArithError(f"arithmetic syntax error: \"{src}\"")
        tokens.append(m.group(0).strip())
        pos = m.end()
    if not tokens:
        return 0
    ev = _Eval(tokens, get, set_)
    value = ev.assignment()
    if ev.i != len(tokens):
        raise ArithError(f"arithmetic syntax error: \"{src}\"")
    return value


class _Eval:
    def __init__(self, tokens: list[str], get: Callable[[str], str], set_: Callable[[str, str], None]) -> None:
        self.t = tokens
        self.i = 0
        self.get = get
        self.set = set_

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def assignment(self) -> int:
        if (self.i + 1 < len(self.t) and re.match(r"^[A-Za-z_]", self.t[self.i])
                and self.t[self.i + 1] in ("=", "+=", "-=", "*=", "/=")):
            name, op = self.t[self.i], self.t[self.i + 1]
            self.i += 2
            value = self.assignment()
            if op != "=":
                value = _apply(op[0], self._var(name), value)
            self.set(name, str(value))
            return value
        return self.binary(1)

    def binary(self, min_prec: int) -> int:
        left = self.unary()
        while True:
            op = self.peek()
            prec = BINARY.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.i += 1
            right = self.binary(prec + 1 if op != "**" else prec)
            left = _apply(op or "", left, right)

    def unary(self) -> int:
        tok = self.peek()
        if tok in ("-", "+", "!", "~"):
            self.i += 1
            v = self.unary()
            return {"-": -v, "+": v, "!": int(not v), "~": ~v}[tok]
        if tok == "(":
            self.i += 1
            v = self.assignment()
            if self.peek() != ")":
                raise ArithError("arithmetic syntax error: missing ')'")
            self.i += 1
            return v
        if tok is None:
            raise ArithError("arithmetic syntax error")
        self.i += 1
        if tok[0].isdigit():
            return int(tok, 0) if tok.lower().startswith("0x") else int(tok)
        if re.match(r"^[A-Za-z_]", tok):
            return self._var(tok)
        raise ArithError(f"arithmetic syntax error: \"{tok}\"")

    def _var(self, name: str) -> int:
        raw = self.get(name).strip()
        if not raw:
            return 0
        try:
            return int(raw, 0) if raw.lower().startswith("0x") else int(raw)
        except ValueError as exc:
            raise ArithError(f"arithmetic syntax error: \"{raw}\"") from exc


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%") and b == 0:
        raise ArithError("divide by zero")
    if op == "/":
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if op == "%":
        return a - b * _apply("/", a, b)
    return {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "**": lambda: a ** b,
        "<<": lambda: a << b, ">>": lambda: a >> b, "<": lambda: int(a < b), ">": lambda: int(a > b),
        "<=": lambda: int(a <= b), ">=": lambda: int(a >= b), "==": lambda: int(a == b),
        "!=": lambda: int(a != b), "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
    }[op]()
