"""Special builtins: the commands that change the shell itself (variables, control flow, cwd).

They get the interpreter, not a ``CommandContext``, because their whole point is to mutate it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..context import ShellExit

if TYPE_CHECKING:
    from ..interpreter import IO, Interpreter

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _colon(sh: Interpreter, args: list[str], io: IO) -> int:
    return 0


def _exit(sh: Interpreter, args: list[str], io: IO) -> int:
    if not args:
        raise ShellExit(sh.last_status)
    try:
        code = int(args[0])
    except ValueError:
        io.stderr.write(f"{sh._prefix()}exit: Illegal number: {args[0]}\n")
        raise ShellExit(2) from None
    raise ShellExit(code & 0xFF)


def _export(sh: Interpreter, args: list[str], io: IO) -> int:
    if not args or args == ["-p"]:
        for k in sorted(sh.exported):
            if k in sh.vars:
                io.stdout.write(f"export {k}='{sh.vars[k]}'\n")
        return 0
    for a in args:
        name, eq, value = a.partition("=")
        if not NAME_RE.match(name):
            io.stderr.write(f"{sh._prefix()}export: bad variable name\n")
            return 2
        if eq:
            sh.set_var(name, value)
        sh.exported.add(name)
    return 0


def _unset(sh: Interpreter, args: list[str], io: IO) -> int:
    for a in args:
        if a in ("-v", "-f"):
            continue
        sh.vars.pop(a, None)
        sh.exported.discard(a)
        sh.functions.pop(a, None)
    return 0


def _set(sh: Interpreter, args: list[str], io: IO) -> int:
    if not args:
        for k in sorted(sh.vars):
            io.stdout.write(f"{k}='{sh.vars[k]}'\n")
        return 0
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            sh.positional = args[i + 1:]
            return 0
        if a in ("-o", "+o") and i + 1 < len(args):
            on = a == "-o"
            opt = args[i + 1]
            if opt == "errexit":
                sh.errexit = on
            elif opt == "nounset":
                sh.nounset = on
            elif opt == "pipefail":
                sh.pipefail = on
            i += 2
            continue
        if a[:1] in "-+" and len(a) > 1:
            on = a[0] == "-"
            for flag in a[1:]:
                if flag == "e":
                    sh.errexit = on
                elif flag == "u":
                    sh.nounset = on
            i += 1
            continue
        sh.positional = args[i:]
        return 0
    return 0


def _cd(sh: Interpreter, args: list[str], io: IO) -> int:
    target = args[0] if args else sh.get_var("HOME", "/") or "/"
    if not sh.fs.is_dir(target):
        io.stderr.write(f"{sh._prefix()}cd: can't cd to {target}: No such file or directory\n")
        return 2
    sh.fs.cwd = sh.fs.abspath(target)
    sh.set_var("PWD", sh.fs.cwd)
    return 0


def _loop_control(kind: str) -> Callable[[Interpreter, list[str], IO], int]:
    def run(sh: Interpreter, args: list[str], io: IO) -> int:
        from ..interpreter import LoopControl

        if sh.loop_depth == 0:
            return 0
        levels = int(args[0]) if args and args[0].isdigit() else 1
        raise LoopControl(kind, max(1, min(levels, sh.loop_depth)))

    return run


def _shift(sh: Interpreter, args: list[str], io: IO) -> int:
    n = int(args[0]) if args else 1
    if n > len(sh.positional):
        io.stderr.write(f"{sh._prefix()}shift: can't shift that many\n")
        return 2
    sh.positional = sh.positional[n:]
    return 0


def _read(sh: Interpreter, args: list[str], io: IO) -> int:
    names = [a for a in args if not a.startswith("-")]
    raw = "-r" in args
    if not io.stdin:
        for n in names or ["REPLY"]:
            sh.set_var(n, "")
        return 1
    line, nl, rest = io.stdin.partition("\n")
    io.stdin = rest
    if not raw:
        line = line.replace("\\", "")
    names = names or ["REPLY"]
    fields = line.split(None, len(names) - 1) if len(names) > 1 else [line.strip()]
    for k, n in enumerate(names):
        sh.set_var(n, fields[k] if k < len(fields) else "")
    return 0 if nl else 1


def _eval(sh: Interpreter, args: list[str], io: IO) -> int:
    return sh.run_script(" ".join(args), io)


def _source(sh: Interpreter, args: list[str], io: IO) -> int:
    if not args:
        return 0
    text = sh.fs.read(args[0])
    if text is None:
        io.stderr.write(f"{sh._prefix()}.: {args[0]}: not found\n")
        return 2
    return sh.run_script(text, io)


def _return(sh: Interpreter, args: list[str], io: IO) -> int:
    from ..interpreter import FuncReturn

    raise FuncReturn(int(args[0]) if args else sh.last_status)


def _local(sh: Interpreter, args: list[str], io: IO) -> int:
    for a in args:
        name, eq, value = a.partition("=")
        sh.set_var(name, value if eq else sh.vars.get(name, ""))
    return 0


def _exec(sh: Interpreter, args: list[str], io: IO) -> int:
    if not args:
        return 0
    raise ShellExit(sh.run_argv(args, io))


def _command(sh: Interpreter, args: list[str], io: IO) -> int:
    if args and args[0] in ("-v", "-V"):
        status = 0
        for name in args[1:]:
            path = sh.command_path(name)
            if path is None:
                status = 1
            else:
                io.stdout.write(path + "\n")
        return status
    if not args:
        return 0
    return sh.run_argv(args, io)


SPECIAL: dict[str, Callable[[Interpreter, list[str], IO], int]] = {
    ":": _colon, "exit": _exit, "export": _export, "unset": _unset, "set": _set, "cd": _cd,
    "break": _loop_control("break"), "continue": _loop_control("continue"), "shift": _shift,
    "read": _read, "eval": _eval, ".": _source, "source": _source, "return": _return,
    "local": _local, "exec": _exec, "command": _command,
}
