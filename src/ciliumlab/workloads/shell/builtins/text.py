"""Text filters: cat, head, tail (incl. -f), wc, tr, cut, sort, uniq, tee, ls."""

from __future__ import annotations

import re

from ..context import CommandContext
from .util import UsageError, lines_of, parse_int, read_inputs, split_short


def cat(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="")
    number = any(o == "n" for o, _ in opts)
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files)
    for _, text in inputs:
        if number:
            for k, line in enumerate(lines_of(text), 1):
                ctx.stdout.write(f"{k:6d}\t{line}\n")
        else:
            ctx.stdout.write(text)
    return status


def _count_opt(opts: list[tuple[str, str | None]], ctx: CommandContext) -> tuple[str, str]:
    mode, value = "n", "10"
    for o, v in opts:
        if o in ("n", "c"):
            mode, value = o, v or ""
    return mode, value


def head(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="nc", numeric_flag="n")
    mode, value = _count_opt(opts, ctx)
    n = parse_int(ctx, value)
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files)
    for k, (name, text) in enumerate(inputs):
        if len(inputs) > 1:
            ctx.stdout.write(("\n" if k else "") + f"==> {name} <==\n")
        if mode == "c":
            ctx.stdout.write(text[:n] if n >= 0 else text[:n])
        else:
            lines = text.splitlines(keepends=True)
            ctx.stdout.write("".join(lines[:n] if n >= 0 else lines[:n]))
    return status


def tail(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="nc", numeric_flag="n")
    follow = any(o in ("f", "F") for o, _ in opts)
    mode, value = _count_opt(opts, ctx)
    from_start = value.startswith("+")
    n = parse_int(ctx, value.lstrip("+"))
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files)
    for k, (name, text) in enumerate(inputs):
        if len(inputs) > 1:
            ctx.stdout.write(("\n" if k else "") + f"==> {name} <==\n")
        ctx.stdout.write(_tail_text(text, mode, n, from_start))
    if follow and files and files[-1] != "-" and status == 0:
        _follow(ctx, files[-1], inputs[-1][1] if inputs else "")
    return status


def _tail_text(text: str, mode: str, n: int, from_start: bool) -> str:
    if mode == "c":
        return text[max(n - 1, 0):] if from_start else (text[-n:] if n else "")
    lines = text.splitlines(keepends=True)
    if from_start:
        return "".join(lines[max(n - 1, 0):])
    return "".join(lines[-n:]) if n else ""


#: How often ``tail -f`` looks at its file again (lab seconds), as inotify-less busybox polls.
FOLLOW_POLL_SECONDS = 1.0


def _follow(ctx: CommandContext, path: str, seen: str) -> None:
    """Keep printing what is appended to ``path`` until the exec deadline.

    With no deadline the lab cannot wait forever, so ``tail -f`` then behaves like ``tail``
    (documented limitation: callers that want a live stream pass a deadline)."""
    if ctx.deadline is None:
        return
    while True:
        ctx.sleep(FOLLOW_POLL_SECONDS)  # raises DeadlineExceeded at the deadline
        text = ctx.fs.read(path) or ""
        if text.startswith(seen):
            ctx.stdout.write(text[len(seen):])
        else:  # rotated / truncated
            ctx.stderr.write(f"tail: {path} has been replaced; following end of new file\n")
            ctx.stdout.write(text)
        seen = text


def wc(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="")
    sel = [o for o, _ in opts if o in ("l", "w", "c", "m", "L")]
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files)
    order = [c for c in "lwcmL" if c in sel] or ["l", "w", "c"]
    totals = dict.fromkeys(order, 0)
    rows = []
    for name, text in inputs:
        counts = {
            "l": text.count("\n"), "w": len(text.split()), "c": len(text.encode()), "m": len(text),
            "L": max((len(x) for x in text.split("\n")), default=0),
        }
        for c in order:
            totals[c] += counts[c] if c != "L" else 0
        rows.append(([counts[c] for c in order], name if files else ""))
    if len(inputs) > 1:
        rows.append(([totals[c] for c in order], "total"))
    for values, name in rows:
        if len(values) == 1 and not name:
            ctx.stdout.write(f"{values[0]}\n")
        else:
            cols = " ".join(f"{v:7d}" for v in values) if len(values) > 1 else str(values[0])
            ctx.stdout.write(f"{cols}{' ' + name if name else ''}\n")
    return status


TR_CLASSES = {
    "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[:lower:]": "abcdefghijklmnopqrstuvwxyz",
    "[:digit:]": "0123456789", "[:space:]": " \t\n\r\f\v", "[:blank:]": " \t",
    "[:alpha:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "[:alnum:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "[:punct:]": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}


def _tr_set(spec: str) -> str:
    for k, v in TR_CLASSES.items():
        spec = spec.replace(k, v)
    spec = spec.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\\\", "\\")
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def tr(args: list[str], ctx: CommandContext) -> int:
    flags = set()
    sets: list[str] = []
    for a in args:
        if a.startswith("-") and len(a) > 1 and not sets:
            flags.update(a[1:])
        else:
            sets.append(_tr_set(a))
    text = ctx.stdin
    if "d" in flags:
        if not sets:
            raise UsageError("missing operand")
        dele = sets[0]
        text = "".join(c for c in text if (c in dele) != ("c" in flags))
        sets = sets[1:]
        if "s" in flags and sets:
            text = _squeeze(text, sets[0])
        ctx.stdout.write(text)
        return 0
    if len(sets) >= 2:
        src, dst = sets[0], sets[1]
        dst = (dst + dst[-1:] * len(src))[: len(src)] if dst else dst
        text = text.translate(str.maketrans(src, dst))
        if "s" in flags:
            text = _squeeze(text, sets[1])
    elif len(sets) == 1 and "s" in flags:
        text = _squeeze(text, sets[0])
    else:
        raise UsageError("missing operand")
    ctx.stdout.write(text)
    return 0


def _squeeze(text: str, chars: str) -> str:
    out: list[str] = []
    for c in text:
        if out and out[-1] == c and c in chars:
            continue
        out.append(c)
    return "".join(out)


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, _, b = part.partition("-")
            out.append((int(a) if a else 1, int(b) if b else 1 << 30))
        else:
            out.append((int(part), int(part)))
    return out


def cut(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="dfc")
    delim, fields, chars, only_delim = "\t", None, None, False
    files = []
    for o, v in opts:
        if o == "d":
            delim = v or "\t"
        elif o == "f":
            fields = v
        elif o == "c" or o == "b":
            chars = v
        elif o == "s":
            only_delim = True
        elif o == "":
            files.append(v or "")
    if fields is None and chars is None:
        raise UsageError("expected a list of bytes, characters, or fields")
    try:
        ranges = _ranges(fields or chars or "")
    except ValueError:
        raise UsageError("invalid byte or field list") from None
    inputs, status = read_inputs(ctx, files)
    for _, text in inputs:
        for line in lines_of(text):
            if chars is not None:
                ctx.stdout.write("".join(c for k, c in enumerate(line, 1) if any(a <= k <= b for a, b in ranges)) + "\n")
                continue
            if delim not in line:
                if not only_delim:
                    ctx.stdout.write(line + "\n")
                continue
            parts = line.split(delim)
            ctx.stdout.write(delim.join(p for k, p in enumerate(parts, 1) if any(a <= k <= b for a, b in ranges)) + "\n")
    return status


def sort(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="ktTo")
    flags = {o for o, _ in opts if o and len(o) == 1}
    key = next((v for o, v in opts if o == "k"), None)
    sep = next((v for o, v in opts if o == "t"), None)
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files)
    lines = [line for _, text in inputs for line in lines_of(text)]

    def keyfn(line: str) -> tuple:
        k = line
        if key:
            idx = int(key.split(",")[0].split(".")[0]) - 1
            parts = line.split(sep) if sep else line.split()
            k = parts[idx] if idx < len(parts) else ""
        if "f" in flags:
            k = k.lower()
        if "n" in flags:
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)", k)
            return (float(m.group(1)) if m else 0.0, line)
        return (k, line)

    lines.sort(key=keyfn, reverse="r" in flags)
    if "u" in flags:
        seen: set = set()
        uniq = []
        for line in lines:
            k = keyfn(line)[0]
            if k not in seen:
                seen.add(k)
                uniq.append(line)
        lines = uniq
    ctx.stdout.write("".join(line + "\n" for line in lines))
    return status


def uniq(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="")
    flags = {o for o, _ in opts if o}
    files = [v or "" for o, v in opts if o == ""]
    inputs, status = read_inputs(ctx, files[:1])
    groups: list[list[str]] = []
    for _, text in inputs:
        for line in lines_of(text):
            cmp = line.lower() if "i" in flags else line
            if groups and (groups[-1][0].lower() if "i" in flags else groups[-1][0]) == cmp:
                groups[-1].append(line)
            else:
                groups.append([line])
    for g in groups:
        if "d" in flags and len(g) < 2:
            continue
        if "u" in flags and len(g) > 1:
            continue
        ctx.stdout.write((f"{len(g):7d} " if "c" in flags else "") + g[0] + "\n")
    return status


def tee(args: list[str], ctx: CommandContext) -> int:
    append = "-a" in args
    for f in (a for a in args if not a.startswith("-")):
        ctx.fs.write(f, ctx.stdin, append=append)
    ctx.stdout.write(ctx.stdin)
    return 0


def ls(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="")
    flags = {o for o, _ in opts if o}
    paths = [v or "" for o, v in opts if o == ""] or ["."]
    status = 0
    if len(paths) > 1:  # like ls: errors, then the files, then each directory under a `dir:` header
        prefix = [f"-{f}" for f in sorted(flags)]
        dirs = sorted(p for p in paths if ctx.fs.is_dir(p))
        missing = [p for p in paths if p not in dirs and ctx.fs.read(p) is None]
        files = sorted(p for p in paths if p not in dirs and p not in missing)
        for p in missing + files:
            status |= ls([*prefix, p], ctx)
        for i, p in enumerate(dirs):
            ctx.stdout.write(("\n" if i or files else "") + f"{p}:\n")
            status |= ls([*prefix, p], ctx)
        return status
    for p in paths:
        if ctx.fs.is_dir(p):
            names = ctx.fs.listdir(p)
            if "a" in flags:
                names = [".", "..", *names]
            if "l" in flags:
                for n in names:
                    full = p.rstrip("/") + "/" + n
                    is_dir = ctx.fs.is_dir(full) or n in (".", "..")
                    size = len((ctx.fs.read(full) or "").encode()) if not is_dir else 4096
                    mode = "drwxr-xr-x" if is_dir else "-rw-r--r--"
                    ctx.stdout.write(f"{mode}    1 root     root      {size:>8} Nov 26 08:00 {n}\n")
            elif names:
                ctx.stdout.write("\n".join(names) + "\n")
        elif ctx.fs.read(p) is not None:
            ctx.stdout.write(p + "\n")
        else:
            ctx.stderr.write(f"ls: {p}: No such file or directory\n")
            status = 1
    return status


COMMANDS = {
    "cat": cat, "head": head, "tail": tail, "wc": wc, "tr": tr, "cut": cut, "sort": sort,
    "uniq": uniq, "tee": tee, "ls": ls,
}
