"""Small programs every image with a shell has (busybox applets): echo, printf, sleep, seq …"""

from __future__ import annotations

import re
import time

from ..context import CommandContext
from .util import UsageError

ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v", "f": "\f", "e": "\x1b"}


def unescape(s: str, stop_at_c: bool = False) -> tuple[str, bool]:
    """Interpret backslash escapes (echo -e / printf %b); returns (text, stop) where stop
    means ``\\c`` was seen (suppress further output)."""
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n in ESCAPES:
                out.append(ESCAPES[n])
                i += 2
                continue
            if n == "c" and stop_at_c:
                return "".join(out), True
            if n == "0" or (n.isdigit() and n < "8"):
                m = re.match(r"0?([0-7]{1,3})", s[i + 1:])
                if m:
                    out.append(chr(int(m.group(1), 8)))
                    i += 1 + len(m.group(0))
                    continue
            if n == "x":
                m = re.match(r"x([0-9a-fA-F]{1,2})", s[i + 1:])
                if m:
                    out.append(chr(int(m.group(1), 16)))
                    i += 1 + len(m.group(0))
                    continue
        out.append(c)
        i += 1
    return "".join(out), False


def echo(args: list[str], ctx: CommandContext) -> int:
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for f in args[0][1:]:
            if f == "n":
                newline = False
            elif f == "e":
                escapes = True
            else:
                escapes = False
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = unescape(text, stop_at_c=True)
        if stop:
            ctx.stdout.write(text)
            return 0
    ctx.stdout.write(text + ("\n" if newline else ""))
    return 0


FMT_RE = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXfeEgGcsb%])")


def printf(args: list[str], ctx: CommandContext) -> int:
    if not args:
        raise UsageError("usage: printf FORMAT [ARGUMENT]...")
    fmt, rest = args[0], list(args[1:])
    status = 0
    first = True
    while first or rest:
        first = False
        consumed = False
        out: list[str] = []
        pos = 0
        for m in FMT_RE.finditer(fmt):
            out.append(unescape(fmt[pos:m.start()])[0])
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = rest.pop(0) if rest else "0"
            if prec == "*":
                prec = rest.pop(0) if rest else "0"
            arg = rest.pop(0) if rest else None
            consumed = consumed or arg is not None
            spec = "%" + flags + (width or "") + (("." + prec) if prec is not None else "")
            if conv in "diouxX":
                try:
                    v = int(arg or "0", 0) if (arg or "").lower().startswith("0x") else int(arg or "0")
                except ValueError:
                    ctx.stderr.write(f"printf: invalid number '{arg}'\n")
                    status, v = 1, 0
                out.append((spec + ("d" if conv in "iu" else conv)) % v)
            elif conv in "feEgG":
                try:
                    fv = float(arg or "0")
                except ValueError:
                    ctx.stderr.write(f"printf: invalid number '{arg}'\n")
                    status, fv = 1, 0.0
                out.append((spec + conv) % fv)
            elif conv == "c":
                out.append((spec + "s") % (arg or "")[:1])
            elif conv == "b":
                out.append((spec + "s") % unescape(arg or "")[0])
            else:
                out.append((spec + "s") % (arg or ""))
        out.append(unescape(fmt[pos:])[0])
        ctx.stdout.write("".join(out))
        if not consumed:
            break
    return status


def true(args: list[str], ctx: CommandContext) -> int:
    return 0


def false(args: list[str], ctx: CommandContext) -> int:
    return 1


SUFFIX = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def sleep(args: list[str], ctx: CommandContext) -> int:
    if not args:
        raise UsageError("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: sleep [N]...")
    total = 0.0
    for a in args:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            raise UsageError(f"invalid number '{a}'")
        total += float(m.group(1)) * SUFFIX.get(m.group(2) or "s", 1)
    ctx.sleep(total)
    return 0


def seq(args: list[str], ctx: CommandContext) -> int:
    sep = "\n"
    nums: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "-s" and i + 1 < len(args):
            sep = args[i + 1]
            i += 2
            continue
        nums.append(args[i])
        i += 1
    try:
        vals = [float(n) if "." in n else int(n) for n in nums]
    except ValueError:
        raise UsageError(f"invalid number '{nums}'") from None
    if len(vals) == 1:
        first, inc, last = 1, 1, vals[0]
    elif len(vals) == 2:
        first, inc, last = vals[0], 1, vals[1]
    elif len(vals) == 3:
        first, inc, last = vals
    else:
        raise UsageError("usage: seq [-w] [-s SEP] [FIRST [INC]] LAST")
    out = []
    v = first
    while (inc > 0 and v <= last) or (inc < 0 and v >= last):
        out.append(str(v))
        v += inc
        if len(out) > 1_000_000:
            break
    if out:
        ctx.stdout.write(sep.join(out) + "\n")
    return 0


def env_cmd(args: list[str], ctx: CommandContext) -> int:
    env = dict(ctx.env)
    rest = list(args)
    while rest and ("=" in rest[0] or rest[0] in ("-i", "-")):
        a = rest.pop(0)
        if a in ("-i", "-"):
            env = {}
        else:
            k, _, v = a.partition("=")
            env[k] = v
    if rest:
        sh = ctx.extra.get("interpreter")
        if sh is not None:
            from ..interpreter import IO

            saved = dict(sh.vars), set(sh.exported)
            sh.vars, sh.exported = dict(env), set(env)
            try:
                return sh.run_argv(rest, IO(ctx.stdin, ctx.stdout, ctx.stderr, ctx.stdout_is_tty))
            finally:
                sh.vars, sh.exported = saved
    for k, v in env.items():
        ctx.stdout.write(f"{k}={v}\n")
    return 0


def printenv(args: list[str], ctx: CommandContext) -> int:
    if not args:
        return env_cmd([], ctx)
    status = 0
    for a in args:
        if a in ctx.env:
            ctx.stdout.write(ctx.env[a] + "\n")
        else:
            status = 1
    return status


def date(args: list[str], ctx: CommandContext) -> int:
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    for a in args:
        if a.startswith("+"):
            fmt = a[1:]
        elif a in ("-u", "--utc", "-R"):
            if a == "-R":
                fmt = "%a, %d %b %Y %H:%M:%S +0000"
        elif a.startswith("-I"):
            fmt = "%Y-%m-%dT%H:%M:%S+00:00" if "second" in a or a == "-Is" else "%Y-%m-%d"
        else:
            ctx.stderr.write(f"date: invalid date '{a}'\n")
            return 1
    t = time.gmtime(ctx.net.now())
    text = fmt.replace("%Z", "UTC").replace("%e", f"{t.tm_mday:2d}").replace("%s", str(int(ctx.net.now())))
    text = text.replace("%N", f"{int((ctx.net.now() % 1) * 1e9):09d}")
    ctx.stdout.write(time.strftime(text, t) + "\n")
    return 0


def id_cmd(args: list[str], ctx: CommandContext) -> int:
    if "-u" in args:
        ctx.stdout.write("0\n")
    elif "-un" in args or "-nu" in args:
        ctx.stdout.write("root\n")
    else:
        ctx.stdout.write("uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),"
                         "10(wheel),11(floppy),20(dialout),26(tape),27(video)\n")
    return 0


def whoami(args: list[str], ctx: CommandContext) -> int:
    ctx.stdout.write("root\n")
    return 0


#: The lab VMs run Ubuntu 24.04 (Vagrant bento box); pods share the node's kernel.
KERNEL_RELEASE = "6.8.0-53-generic"
KERNEL_VERSION = "#55-Ubuntu SMP PREEMPT_DYNAMIC Fri Jan 17 15:37:52 UTC 2025"


def uname(args: list[str], ctx: CommandContext) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-")) or "s"
    if "a" in flags:
        flags = "snrvmo"
    fields = {"s": "Linux", "n": ctx.net.hostname, "r": KERNEL_RELEASE, "v": KERNEL_VERSION,
              "m": "x86_64", "p": "unknown", "o": "Linux"}
    ctx.stdout.write(" ".join(fields[f] for f in "snrvmpo" if f in flags) + "\n")
    return 0


def hostname(args: list[str], ctx: CommandContext) -> int:
    if "-i" in args or "-I" in args:
        ctx.stdout.write(ctx.net.ip + ("\n" if "-i" in args else " \n"))
        return 0
    if "-s" in args:
        ctx.stdout.write(ctx.net.hostname.split(".")[0] + "\n")
        return 0
    ctx.stdout.write(ctx.net.hostname + "\n")
    return 0


def basename(args: list[str], ctx: CommandContext) -> int:
    if not args:
        raise UsageError("usage: basename FILE [SUFFIX]")
    name = args[0].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(args) > 1 and name.endswith(args[1]) and name != args[1]:
        name = name[: -len(args[1])]
    ctx.stdout.write(name + "\n")
    return 0


def dirname(args: list[str], ctx: CommandContext) -> int:
    if not args:
        raise UsageError("usage: dirname FILENAME")
    p = args[0].rstrip("/")
    d = p.rsplit("/", 1)[0] if "/" in p else "."
    ctx.stdout.write((d or "/") + "\n")
    return 0


def which(args: list[str], ctx: CommandContext) -> int:
    sh = ctx.extra.get("interpreter")
    status = 0
    for name in args:
        path = sh.command_path(name, programs_only=True) if sh is not None else None
        if path is None:
            status = 1
        else:
            ctx.stdout.write(path + "\n")
    return status


_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$")


def timeout_cmd(args: list[str], ctx: CommandContext) -> int:
    """coreutils `timeout DURATION COMMAND…`: 124 when the command had to be stopped."""
    from ..context import DeadlineExceeded

    rest = list(args)
    while rest and rest[0].startswith("-") and rest[0] != "-":
        flag = rest.pop(0)
        if flag in ("-s", "-k", "--signal", "--kill-after") and rest:
            rest.pop(0)
    m = _DURATION.match(rest[0]) if rest else None
    if m is None or len(rest) < 2:
        raise UsageError(f"invalid time interval '{rest[0]}'" if rest and m is None else "missing operand", 125)
    seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    sh = ctx.extra.get("interpreter")
    if sh is None:
        return 126
    from ..interpreter import IO

    outer = sh.deadline
    mine = ctx.net.now() + seconds
    sh.deadline = mine if outer is None else min(outer, mine)
    try:
        return sh.run_argv(rest[1:], IO(ctx.stdin, ctx.stdout, ctx.stderr, ctx.stdout_is_tty))
    except DeadlineExceeded:
        if outer is not None and outer <= mine:
            raise  # the exec's own deadline, not ours
        return 124
    finally:
        sh.deadline = outer


COMMANDS = {
    "timeout": timeout_cmd,
    "echo": echo, "printf": printf, "true": true, "false": false, "sleep": sleep, "seq": seq,
    "env": env_cmd, "printenv": printenv, "date": date, "id": id_cmd, "whoami": whoami,
    "uname": uname, "hostname": hostname, "basename": basename, "dirname": dirname, "which": which,
}
