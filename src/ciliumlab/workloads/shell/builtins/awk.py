"""A deliberately tiny awk: ``[-F sep] 'PATTERN { print ITEMS }' [file]``.

PATTERN: ``/re/``, ``!/re/``, ``BEGIN``, ``END``, ``NR==n``/``NR>n``, ``$N=="s"`` or nothing; the
action is ``print`` with items ``$N``, ``$NF``, ``$0``, ``NR``, ``NF``, ``"text"`` (comma = OFS).
It covers the one-liners used to pick columns out of command output; anything else fails
loudly rather than silently printing the wrong thing.
"""

from __future__ import annotations

import re

from ..context import CommandContext
from .regex import compile_pattern
from .util import UsageError, lines_of, read_inputs

RULE_RE = re.compile(r"\s*(BEGIN|END|!?/(?:[^/\\]|\\.)*/|[^{]+?)?\s*\{([^}]*)\}\s*;?")
COND_RE = re.compile(r"^\s*(NR|NF|\$\d+|\$NF)\s*(==|!=|>=|<=|>|<|~)\s*(\"[^\"]*\"|\d+|/[^/]*/)\s*$")
ITEM_RE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\$NF|\$\d+|\$\(NF-\d+\)|NR|NF|,)')


def _field(fields: list[str], line: str, ref: str, nr: int) -> str:
    if ref == "$0":
        return line
    if ref == "NR":
        return str(nr)
    if ref == "NF":
        return str(len(fields))
    if ref == "$NF":
        return fields[-1] if fields else ""
    m = re.match(r"\$\(NF-(\d+)\)", ref)
    if m:
        k = len(fields) - int(m.group(1))
        return fields[k - 1] if 0 < k <= len(fields) else ""
    k = int(ref[1:])
    return line if k == 0 else (fields[k - 1] if k <= len(fields) else "")


def _print_items(action: str) -> list[str]:
    action = action.strip().rstrip(";").strip()
    if action in ("print", "print $0", ""):
        return ["$0"]
    if not action.startswith("print"):
        raise UsageError(f"unsupported program: {action}", 2)
    body = action[5:]
    items: list[str] = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        m = ITEM_RE.match(body, pos)
        if not m:
            raise UsageError(f"unsupported print item: {body[pos:].strip()}", 2)
        items.append(m.group(1))
        pos = m.end()
    return items


def awk(args: list[str], ctx: CommandContext) -> int:
    sep: str | None = None
    rest = list(args)
    program = None
    files: list[str] = []
    while rest:
        a = rest.pop(0)
        if a == "-F":
            sep = rest.pop(0) if rest else " "
        elif a.startswith("-F"):
            sep = a[2:]
        elif program is None:
            program = a
        else:
            files.append(a)
    if program is None:
        raise UsageError("usage: awk [-F sep] 'program' [file ...]", 2)
    if not program.strip().endswith("}"):
        program = program + " { print }"
    rules: list[tuple[str, list[str]]] = []
    pos = 0
    while pos < len(program.strip()):
        m = RULE_RE.match(program, pos)
        if not m or m.end() == pos:
            raise UsageError(f"syntax error in program: {program[pos:]}", 2)
        rules.append(((m.group(1) or "").strip(), _print_items(m.group(2))))
        pos = m.end()
    inputs, status = read_inputs(ctx, files)
    nr = 0
    for _, items in (r for r in rules if r[0] == "BEGIN"):
        ctx.stdout.write(" ".join(i.strip('"') for i in items if i != ",") + "\n")
    for _, text in inputs:
        for line in lines_of(text):
            nr += 1
            if sep is None or sep == " ":
                fields = line.split()
            elif len(sep) == 1 and sep != "|":
                fields = line.split(sep)
            else:
                fields = re.split(sep, line)
            for pattern, items in rules:
                if pattern in ("BEGIN", "END") or not _matches(pattern, fields, line, nr):
                    continue
                ctx.stdout.write(_render(items, fields, line, nr) + "\n")
    for _, items in (r for r in rules if r[0] == "END"):
        ctx.stdout.write(_render(items, [], "", nr) + "\n")
    return status


def _render(items: list[str], fields: list[str], line: str, nr: int) -> str:
    out: list[str] = []
    for it in items:
        if it == ",":
            out.append(" ")
        elif it.startswith('"'):
            out.append(it[1:-1].replace("\\t", "\t").replace("\\n", "\n"))
        else:
            out.append(_field(fields, line, it, nr))
    return "".join(out)


def _matches(pattern: str, fields: list[str], line: str, nr: int) -> bool:
    if not pattern:
        return True
    negate = pattern.startswith("!")
    if pattern.lstrip("!").startswith("/"):
        rx = compile_pattern(pattern.lstrip("!")[1:-1], extended=True)
        return bool(rx.search(line)) != negate
    m = COND_RE.match(pattern)
    if not m:
        raise UsageError(f"unsupported pattern: {pattern}", 2)
    ref, op, value = m.groups()
    left = _field(fields, line, ref, nr)
    if op == "~":
        return bool(compile_pattern(value[1:-1], extended=True).search(left))
    if value.startswith('"'):
        rv: object = value[1:-1]
        lv: object = left
    else:
        rv = int(value)
        try:
            lv = int(left)
        except ValueError:
            lv, rv = left, value
    return {"==": lv == rv, "!=": lv != rv, ">": lv > rv, "<": lv < rv, ">=": lv >= rv, "<=": lv <= rv}[op]  # type: ignore[operator]


COMMANDS = {"awk": awk}
