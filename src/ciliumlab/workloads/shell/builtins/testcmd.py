"""``test`` / ``[``: POSIX conditional expressions (with ``!``, ``-a``, ``-o`` and parentheses)."""

from __future__ import annotations

from ..context import CommandContext


class _TestError(Exception):
    pass


def _int(s: str) -> int:
    try:
        return int(s.strip())
    except ValueError:
        raise _TestError(f"{s}: bad number") from None


UNARY = {"-z", "-n", "-f", "-e", "-d", "-s", "-r", "-w", "-x", "-h", "-L", "-t"}
BINARY = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">"}


class _Eval:
    def __init__(self, args: list[str], ctx: CommandContext) -> None:
        self.a = args
        self.i = 0
        self.ctx = ctx

    def more(self) -> bool:
        return self.i < len(self.a)

    def expr(self) -> bool:
        v = self.and_()
        while self.more() and self.a[self.i] == "-o":
            self.i += 1
            r = self.and_()
            v = v or r
        return v

    def and_(self) -> bool:
        v = self.not_()
        while self.more() and self.a[self.i] == "-a":
            self.i += 1
            r = self.not_()
            v = v and r
        return v

    def not_(self) -> bool:
        if self.more() and self.a[self.i] == "!" and self.i + 1 < len(self.a):
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        if not self.more():
            raise _TestError("argument expected")
        a = self.a
        tok = a[self.i]
        if tok == "(" and self.i + 1 < len(a):
            self.i += 1
            v = self.expr()
            if not self.more() or a[self.i] != ")":
                raise _TestError("')' expected")
            self.i += 1
            return v
        if self.i + 2 <= len(a) - 1 and a[self.i + 1] in BINARY:
            left, op, right = a[self.i], a[self.i + 1], a[self.i + 2]
            self.i += 3
            return _binary(left, op, right)
        if tok in UNARY and self.i + 1 < len(a):
            self.i += 2
            return self._unary(tok, a[self.i - 1])
        self.i += 1
        return tok != ""

    def _unary(self, op: str, arg: str) -> bool:
        fs = self.ctx.fs
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        if op == "-d":
            return fs.is_dir(arg)
        if op == "-f":
            return fs.read(arg) is not None and not fs.is_dir(arg)
        if op == "-s":
            return bool(fs.read(arg))
        if op == "-t":
            return False
        return fs.exists(arg)


def _binary(left: str, op: str, right: str) -> bool:
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    x, y = _int(left), _int(right)
    return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]


def test(args: list[str], ctx: CommandContext) -> int:
    if ctx.name == "[":
        if not args or args[-1] != "]":
            ctx.stderr.write("sh: missing ]\n")
            return 2
        args = args[:-1]
    if not args:
        return 1
    ev = _Eval(args, ctx)
    try:
        v = ev.expr()
        if ev.more():
            raise _TestError(f"{args[ev.i]}: unknown operand")
    except _TestError as exc:
        ctx.stderr.write(f"sh: {exc}\n")
        return 2
    return 0 if v else 1


COMMANDS = {"test": test, "[": test}
