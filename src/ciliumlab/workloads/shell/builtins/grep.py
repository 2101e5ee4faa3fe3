"""grep (busybox/GNU subset): -i -E -F -v -c -o -q -w -x -n -l -h -H -s -m -A -B -C -e."""

from __future__ import annotations

import re

from ..context import CommandContext
from .regex import compile_pattern
from .util import UsageError, lines_of, parse_int, split_short


def grep(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="eABCmf")
    flags: set[str] = set()
    patterns: list[str] = []
    operands: list[str] = []
    after = before = 0
    max_count = -1
    for opt, val in opts:
        if opt == "":
            operands.append(val or "")
        elif opt == "e":
            patterns.append(val or "")
        elif opt in ("A", "B", "C"):
            n = parse_int(ctx, val or "")
            if opt in ("A", "C"):
                after = n
            if opt in ("B", "C"):
                before = n
        elif opt == "m":
            max_count = parse_int(ctx, val or "")
        elif opt == "f":
            text = ctx.fs.read(val or "")
            if text is None:
                ctx.stderr.write(f"grep: {val}: No such file or directory\n")
                return 2
            patterns.extend(lines_of(text))
        elif opt.startswith("--"):
            long = {"--ignore-case": "i", "--invert-match": "v", "--count": "c", "--quiet": "q",
                    "--silent": "q", "--only-matching": "o", "--word-regexp": "w", "--line-number": "n",
                    "--extended-regexp": "E", "--fixed-strings": "F", "--color=never": "", "--color=auto": "",
                    "--color": "", "--color=always": ""}
            if opt not in long:
                raise UsageError(f"unrecognized option '{opt}'", 2)
            if long[opt]:
                flags.add(long[opt])
        elif opt in "iEFvcoqwxnlhHsrRPz":
            flags.add(opt)
        else:
            raise UsageError(f"invalid option -- '{opt}'", 2)
    if not patterns:
        if not operands:
            ctx.stderr.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] "
                             "[-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n")
            return 2
        patterns = [operands.pop(0)]
    # multiple patterns on separate lines act as alternatives
    expanded: list[str] = []
    for p in patterns:
        expanded.extend(p.split("\n"))
    try:
        regexes = [compile_pattern(p, extended="E" in flags or "P" in flags, fixed="F" in flags,
                                   icase="i" in flags, word="w" in flags, line="x" in flags) for p in expanded]
    except re.error:
        ctx.stderr.write("grep: bad regex\n")
        return 2
    multi = (len(operands) > 1 or "H" in flags) and "h" not in flags
    status = 1
    errors = False
    for name in operands or ["-"]:
        if name == "-":
            text: str | None = ctx.stdin
            label = "(standard input)"
        else:
            text = ctx.fs.read(name)
            label = name
            if text is None or ctx.fs.is_dir(name):
                if "s" not in flags:
                    msg = "Is a directory" if ctx.fs.is_dir(name) else "No such file or directory"
                    ctx.stderr.write(f"grep: {name}: {msg}\n")
                errors = True
                continue
        matched = _grep_text(ctx, text or "", regexes, flags, label if multi else None, before, after, max_count)
        if matched:
            status = 0
            if "q" in flags:
                return 0
    if errors and not ("q" in flags and status == 0):
        return 2
    return status


def _grep_text(ctx: CommandContext, text: str, regexes: list[re.Pattern[str]], flags: set[str],
               label: str | None, before: int, after: int, max_count: int) -> int:
    lines = lines_of(text)
    invert = "v" in flags
    count = 0
    last_printed = -1
    pending_after = 0
    out = ctx.stdout
    quiet = "q" in flags or "c" in flags or "l" in flags
    prefix = f"{label}:" if label else ""

    def emit(idx: int, sep: str) -> None:
        nonlocal last_printed
        if last_printed >= 0 and idx > last_printed + 1 and (before or after):
            out.write("--\n")
        num = f"{idx + 1}{sep}" if "n" in flags else ""
        lab = f"{label}{sep}" if label else ""
        out.write(f"{lab}{num}{lines[idx]}\n")
        last_printed = idx

    for idx, line in enumerate(lines):
        if max_count >= 0 and count >= max_count:
            break
        hits = [m for r in regexes for m in r.finditer(line) if m.group(0) or "o" not in flags]
        is_match = any(r.search(line) for r in regexes) != invert
        if is_match:
            count += 1
            if quiet:
                continue
            if "o" in flags and not invert:
                for m in sorted(hits, key=lambda m: m.start()):
                    if m.group(0):
                        num = f"{idx + 1}:" if "n" in flags else ""
                        out.write(f"{prefix}{num}{m.group(0)}\n")
                continue
            for b in range(max(idx - before, last_printed + 1), idx):
                emit(b, "-")
            emit(idx, ":")
            pending_after = after
        elif pending_after and not quiet:
            emit(idx, "-")
            pending_after -= 1
    if "c" in flags and "q" not in flags:
        out.write(f"{prefix}{count}\n")
    if "l" in flags and count and "q" not in flags:
        out.write(f"{label or '(standard input)'}\n")
    return count


COMMANDS = {"grep": grep, "egrep": lambda a, c: grep(["-E", *a], c), "fgrep": lambda a, c: grep(["-F", *a], c)}
