"""sed, the part scripts use: ``s/re/repl/[gip]``, ``/re/d``, ``/re/p``, ``Nd``, ``Np``, ``q``.

Commands are ``;``- or newline-separated; addresses are a line number, ``$`` or ``/re/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..context import CommandContext
from .regex import compile_pattern
from .util import UsageError, lines_of, read_inputs, split_short


@dataclass
class _Cmd:
    addr: object  # None | int | "$" | re.Pattern
    op: str
    regex: re.Pattern[str] | None = None
    repl: str = ""
    glob: bool = False
    printflag: bool = False


def _read_delimited(s: str, i: int, delim: str) -> tuple[str, int]:
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            if s[i + 1] == delim:
                out.append(delim)
            else:
                out.append(s[i:i + 2])
            i += 2
            continue
        if c == delim:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise UsageError(f"unmatched '{delim}'")


def _parse(script: str, extended: bool) -> list[_Cmd]:
    cmds: list[_Cmd] = []
    i = 0
    s = script
    while i < len(s):
        while i < len(s) and s[i] in " \t\n;":
            i += 1
        if i >= len(s):
            break
        addr: object = None
        if s[i].isdigit():
            m = re.match(r"\d+", s[i:])
            assert m
            addr = int(m.group(0))
            i += len(m.group(0))
        elif s[i] == "$":
            addr = "$"
            i += 1
        elif s[i] == "/":
            pat, i = _read_delimited(s, i + 1, "/")
            addr = compile_pattern(pat, extended=extended)
        op = s[i] if i < len(s) else ""
        i += 1
        if op == "s":
            delim = s[i]
            pat, i = _read_delimited(s, i + 1, delim)
            repl, i = _read_delimited(s, i, delim)
            flags = ""
            while i < len(s) and s[i] not in ";\n }":
                flags += s[i]
                i += 1
            rx = compile_pattern(pat, extended=extended, icase="I" in flags or "i" in flags)
            cmds.append(_Cmd(addr, "s", rx, _py_repl(repl), "g" in flags, "p" in flags))
        elif op in ("d", "p", "q", "="):
            cmds.append(_Cmd(addr, op))
        else:
            raise UsageError(f"unsupported command {op}")
    return cmds


def _py_repl(repl: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            d = repl[i + 1]
            out.append(f"\\g<{d}>" if d.isdigit() else ("\n" if d == "n" else ("\t" if d == "t" else d)))
            i += 2
            continue
        out.append("\\g<0>" if c == "&" else c.replace("\\", "\\\\"))
        i += 1
    return "".join(out)


def sed(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="ef")
    quiet = any(o == "n" for o, _ in opts)
    extended = any(o in ("E", "r") for o, _ in opts)
    scripts = [v or "" for o, v in opts if o == "e"]
    operands = [v or "" for o, v in opts if o == ""]
    if not scripts:
        if not operands:
            raise UsageError("no script specified")
        scripts = [operands.pop(0)]
    cmds = _parse("\n".join(scripts), extended)
    inputs, status = read_inputs(ctx, operands)
    lines = [line for _, text in inputs for line in lines_of(text)]
    for n, line in enumerate(lines, 1):
        last = n == len(lines)
        deleted = False
        quit_after = False
        for c in cmds:
            if c.addr is not None:
                if isinstance(c.addr, int) and c.addr != n:
                    continue
                if c.addr == "$" and not last:
                    continue
                if isinstance(c.addr, re.Pattern) and not c.addr.search(line):
                    continue
            if c.op == "s" and c.regex is not None:
                new, k = c.regex.subn(c.repl, line, count=0 if c.glob else 1)
                line = new
                if k and c.printflag:
                    ctx.stdout.write(line + "\n")
            elif c.op == "d":
                deleted = True
                break
            elif c.op == "p":
                ctx.stdout.write(line + "\n")
            elif c.op == "=":
                ctx.stdout.write(f"{n}\n")
            elif c.op == "q":
                quit_after = True
                break
        if not deleted and not quiet:
            ctx.stdout.write(line + "\n")
        if quit_after:
            break
    return status


COMMANDS = {"sed": sed}
