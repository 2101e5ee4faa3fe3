"""Helpers shared by the coreutils-like commands: option parsing and input gathering."""

from __future__ import annotations

from ..context import CommandContext


class UsageError(Exception):
    """A bad option: the command prints ``msg`` on stderr and exits ``code``."""

    def __init__(self, msg: str, code: int = 1) -> None:
        super().__init__(msg)
        self.msg = msg
        self.code = code


def split_short(args: list[str], with_arg: str, numeric_flag: str | None = None) -> list[tuple[str, str | None]]:
    """Parse clustered short options (``-sS``, ``-n5``, ``-envoy`` = ``-e nvoy``).

    Returns (option, value) pairs followed by ("", operand) entries for operands, keeping
    order. ``--`` ends options; ``-`` is an operand (stdin). ``-N`` becomes (numeric_flag, N)
    when ``numeric_flag`` is set (``head -5``).
    """
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(("", x) for x in args[i + 1:])
            break
        if a.startswith("--") or not a.startswith("-") or a == "-":
            out.append(("", a) if not a.startswith("--") else (a, None))
            i += 1
            continue
        if numeric_flag and a[1:].isdigit():
            out.append((numeric_flag, a[1:]))
            i += 1
            continue
        j = 1
        while j < len(a):
            c = a[j]
            if c in with_arg:
                val = a[j + 1:]
                if not val:
                    i += 1
                    if i >= len(args):
                        raise UsageError(f"option requires an argument -- '{c}'")
                    val = args[i]
                out.append((c, val))
                break
            out.append((c, None))
            j += 1
        i += 1
    return out


def read_inputs(ctx: CommandContext, files: list[str]) -> tuple[list[tuple[str, str]], int]:
    """(name, text) for each file operand (stdin when none or ``-``); prints busybox-style
    errors for missing files and returns status 1 if any was missing."""
    if not files:
        return [("(standard input)", ctx.stdin)], 0
    out: list[tuple[str, str]] = []
    status = 0
    for f in files:
        if f == "-":
            out.append(("(standard input)", ctx.stdin))
            continue
        if ctx.fs.is_dir(f):
            ctx.stderr.write(f"{ctx.name}: read error: Is a directory\n")
            status = 1
            continue
        text = ctx.fs.read(f)
        if text is None:
            ctx.stderr.write(f"{ctx.name}: {f}: No such file or directory\n")
            status = 1
            continue
        out.append((f, text))
    return out, status


def lines_of(text: str) -> list[str]:
    """Lines without their newline; a final unterminated line counts."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse_int(ctx: CommandContext, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"invalid number '{value}'") from None
