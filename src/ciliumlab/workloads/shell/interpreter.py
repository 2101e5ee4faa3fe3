"""Walks the syntax tree: variables, redirections, pipelines, control flow, command lookup.

Pipelines run stage by stage (each stage's whole output becomes the next one's input): every
program here is deterministic and finite except at the exec deadline, where the partial output
of the interrupted stage still flows through the rest of the pipeline — so
``while true; do curl -s webpod; sleep 1; done | grep Hostname`` shows what it printed so far.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ast
from .builtins.util import UsageError
from .context import CommandContext, DeadlineExceeded, NullOutput, Output, ShellExit
from .expand import ExpansionError, expand_heredoc, expand_word_str, expand_words
from .fs import MemFS
from .images import program_path
from .lexer import ShellSyntaxError
from .parser import parse

if TYPE_CHECKING:
    from ..net import PodNet

#: Loop iterations allowed per exec when lab time does not move (``while true; do :; done``)
#: or no deadline was given: a runaway script ends as if its deadline had been reached.
MAX_LOOP_ITERATIONS = 20_000
MAX_FUNC_DEPTH = 100
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class LoopControl(Exception):
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.levels = levels


class FuncReturn(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class IO:
    stdin: str
    stdout: Output
    stderr: Output
    stdout_tty: bool = False


SpecialFn = Callable[["Interpreter", list[str], IO], int]


class Interpreter:
    """One shell process (subshells snapshot and restore its state)."""

    def __init__(self, net: PodNet, *, env: dict[str, str], image: str, deadline: float | None,
                 commands: Callable[[str], Callable | None], shell_name: str = "sh",
                 tty: bool = False) -> None:
        self.net = net
        self.image = image
        self.deadline = deadline
        self.lookup_command = commands
        self.shell_name = shell_name
        self.tty = tty
        self.fs = MemFS(net)
        self.vars: dict[str, str] = dict(env)
        self.exported: set[str] = set(env)
        self.positional: list[str] = []
        self.arg0 = shell_name
        self.functions: dict[str, ast.Node] = {}
        self.last_status = 0
        self.pid = 1000 + (sum(map(ord, net.pod_name)) % 7000 if getattr(net, "pod_name", "") else 0)
        self.errexit = False
        self.nounset = False
        self.pipefail = False
        self.condition_depth = 0
        self.loop_depth = 0
        self.func_depth = 0
        self.iterations = 0
        self.lineno = 1

    # ------------------------------------------------------------------------ variables
    def get_var(self, name: str, default: str | None = None) -> str | None:
        if name == "?":
            return str(self.last_status)
        if name == "$":
            return str(self.pid)
        if name == "#":
            return str(len(self.positional))
        if name == "0":
            return self.arg0
        if name.isdigit():
            k = int(name)
            return self.positional[k - 1] if k <= len(self.positional) else default
        if name in ("@", "*"):
            return " ".join(self.positional)
        if name == "!":
            return default
        if name == "-":
            return ("e" if self.errexit else "") + ("u" if self.nounset else "")
        if name == "RANDOM":
            return str(int(self.net.now() * 1000) % 32768)
        return self.vars.get(name, default)

    def set_var(self, name: str, value: str) -> None:
        self.vars[name] = value

    def env(self) -> dict[str, str]:
        return {k: v for k, v in self.vars.items() if k in self.exported}

    # ------------------------------------------------------------------------ entry points
    def run_script(self, src: str, io: IO) -> int:
        try:
            tree = parse(src)
        except ShellSyntaxError as exc:
            io.stderr.write(f"{self._prefix()}{exc}\n")
            self.last_status = 2
            return 2
        return self.execute(tree, io)

    def command_substitution(self, src: str) -> str:
        out = Output()
        snap = self._snapshot()
        try:
            status = self.run_script(src, IO("", out, self.current_stderr))
        except ShellExit as exc:
            status = exc.code
        finally:
            self._restore(snap)
        self.last_status = status
        self.subst_status = status
        return out.getvalue().rstrip("\n")

    current_stderr: Output = NullOutput()
    subst_status: int | None = None

    # ------------------------------------------------------------------------ tree walking
    def execute(self, node: ast.Node, io: IO) -> int:
        method = getattr(self, "_exec_" + type(node).__name__)
        status = method(node, io)
        self.last_status = status
        return status

    def _exec_Sequence(self, node: ast.Sequence, io: IO) -> int:
        status = 0
        for item in node.items:
            status = self.execute(item, io)
        return status

    def _exec_Background(self, node: ast.Background, io: IO) -> int:
        self.execute(node.body, io)
        return 0

    def _exec_AndOr(self, node: ast.AndOr, io: IO) -> int:
        self.condition_depth += 1
        try:
            status = self.execute(node.first, io)
            for i, (op, nxt) in enumerate(node.rest):
                if (op == "&&") == (status == 0):
                    last = i == len(node.rest) - 1
                    if last:
                        self.condition_depth -= 1
                        try:
                            status = self.execute(nxt, io)
                        finally:
                            self.condition_depth += 1
                    else:
                        status = self.execute(nxt, io)
            return status
        finally:
            self.condition_depth -= 1

    def _exec_Pipeline(self, node: ast.Pipeline, io: IO) -> int:
        if len(node.commands) == 1:
            if node.negate:
                self.condition_depth += 1
                try:
                    return 0 if self.execute(node.commands[0], io) else 1
                finally:
                    self.condition_depth -= 1
            return self.execute(node.commands[0], io)
        data = io.stdin
        statuses: list[int] = []
        interrupted: DeadlineExceeded | None = None
        saved_deadline = self.deadline
        n = len(node.commands)
        try:
            for k, cmd in enumerate(node.commands):
                last = k == n - 1
                out = io.stdout if last else Output()
                stage_io = IO(data, out, io.stderr, io.stdout_tty if last else False)
                snap = self._snapshot()
                try:
                    statuses.append(self.execute(cmd, stage_io))
                except ShellExit as exc:
                    statuses.append(exc.code)
                except DeadlineExceeded as exc:
                    # keep what this stage printed and let the rest of the pipeline see it
                    interrupted = exc
                    statuses.append(124)
                    self.deadline = None
                finally:
                    self._restore(snap)
                if not last:
                    data = out.getvalue()
        finally:
            self.deadline = saved_deadline
        if interrupted is not None:
            raise interrupted
        status = statuses[-1]
        if self.pipefail:
            status = next((s for s in reversed(statuses) if s), 0)
        if node.negate:
            status = 0 if status else 1
        return status

    def _exec_Group(self, node: ast.Group, io: IO) -> int:
        if not node.subshell:
            return self.execute(node.body, io)
        snap = self._snapshot()
        try:
            return self.execute(node.body, io)
        except ShellExit as exc:
            return exc.code
        finally:
            self._restore(snap)

    def _exec_Compound(self, node: ast.Compound, io: IO) -> int:
        applied = self._apply_redirects(node.redirects, io)
        if applied is None:
            return 1
        new_io, finish = applied
        try:
            return self.execute(node.body, new_io)
        finally:
            finish()

    def _exec_If(self, node: ast.If, io: IO) -> int:
        for cond, body in node.branches:
            if self._condition(cond, io) == 0:
                return self.execute(body, io)
        if node.orelse is not None:
            return self.execute(node.orelse, io)
        return 0

    def _condition(self, node: ast.Node, io: IO) -> int:
        self.condition_depth += 1
        try:
            return self.execute(node, io)
        finally:
            self.condition_depth -= 1

    def _tick_loop(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise DeadlineExceeded()
        self.check_deadline()

    def _exec_Loop(self, node: ast.Loop, io: IO) -> int:
        status = 0
        self.loop_depth += 1
        try:
            while True:
                self._tick_loop()
                c = self._condition(node.cond, io)
                if (c == 0) == node.until:
                    break
                try:
                    status = self.execute(node.body, io)
                except LoopControl as lc:
                    if lc.levels > 1:
                        lc.levels -= 1
                        raise
                    if lc.kind == "break":
                        break
            return status
        finally:
            self.loop_depth -= 1

    def _exec_For(self, node: ast.For, io: IO) -> int:
        items = list(self.positional) if node.words is None else expand_words(self, node.words)
        status = 0
        self.loop_depth += 1
        try:
            for item in items:
                self._tick_loop()
                self.set_var(node.var, item)
                try:
                    status = self.execute(node.body, io)
                except LoopControl as lc:
                    if lc.levels > 1:
                        lc.levels -= 1
                        raise
                    if lc.kind == "break":
                        break
            return status
        finally:
            self.loop_depth -= 1

    def _exec_Case(self, node: ast.Case, io: IO) -> int:
        value = expand_word_str(self, node.word)
        for patterns, body in node.items:
            for pat in patterns:
                if fnmatch.fnmatchcase(value, expand_word_str(self, pat)):
                    return self.execute(body, io) if body is not None else 0
        return 0

    def _exec_FuncDef(self, node: ast.FuncDef, io: IO) -> int:
        self.functions[node.name] = node.body
        return 0

    def _exec_Simple(self, node: ast.Simple, io: IO) -> int:
        self.check_deadline()
        self.current_stderr = io.stderr
        self.subst_status = None
        try:
            argv = expand_words(self, node.words)
            assigns = [(name, expand_word_str(self, w)) for name, w in node.assigns]
        except ExpansionError as exc:
            io.stderr.write(f"{self._prefix()}{exc}\n")
            return self._failed(1 if self.loop_depth or self.func_depth else 2)
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            applied = self._apply_redirects(node.redirects, io)
            if applied is None:
                return self._failed(1)
            applied[1]()
            return self._after(self.subst_status or 0)
        applied = self._apply_redirects(node.redirects, io)
        if applied is None:
            return self._failed(1)
        new_io, finish = applied
        try:
            status = self.run_argv(argv, new_io, dict(assigns))
        finally:
            finish()
        return self._after(status)

    def _failed(self, status: int) -> int:
        return self._after(status)

    def _after(self, status: int) -> int:
        self.last_status = status
        if status != 0 and self.errexit and self.condition_depth == 0:
            raise ShellExit(status)
        return status

    # ------------------------------------------------------------------------ commands
    def run_argv(self, argv: list[str], io: IO, assigns: dict[str, str] | None = None) -> int:
        """Run one command (special builtin, function or program) with its argv."""
        from .builtins.special import SPECIAL

        name = argv[0]
        special = SPECIAL.get(name)
        if special is not None:
            for k, v in (assigns or {}).items():
                self.set_var(k, v)
            return special(self, argv[1:], io)
        if name in self.functions:
            return self._call_function(name, argv, io)
        fn = self.lookup_command(name)
        if fn is None:
            io.stderr.write(self.not_found_message(name))
            return 127
        env = self.env()
        env.update(assigns or {})
        ctx = CommandContext(
            name=name, stdin=io.stdin, stdout=io.stdout, stderr=io.stderr, env=env, net=self.net,
            fs=self.fs, deadline=self.deadline, image=self.image, tty=self.tty,
            stdout_is_tty=io.stdout_tty,
        )
        ctx.extra["interpreter"] = self
        try:
            return int(fn(argv[1:], ctx) or 0)
        except UsageError as exc:
            io.stderr.write(f"{posixpath.basename(name)}: {exc.msg}\n")
            return exc.code

    def command_path(self, name: str, programs_only: bool = False) -> str | None:
        """What ``command -v`` / ``which`` print for ``name`` (None: not found)."""
        from .builtins.special import SPECIAL

        if not programs_only and (name in SPECIAL or name in self.functions):
            return name
        if self.lookup_command(name) is None:
            return None
        return name if "/" in name else program_path(name)

    def not_found_message(self, name: str) -> str:
        if self.shell_name == "bash":
            return f"bash: line {self.lineno}: {name}: command not found\n"
        return f"{self.shell_name}: {name}: not found\n"

    def _call_function(self, name: str, argv: list[str], io: IO) -> int:
        if self.func_depth >= MAX_FUNC_DEPTH:
            io.stderr.write(f"{self._prefix()}{name}: function recursion too deep\n")
            return 2
        saved = self.positional
        self.positional = argv[1:]
        self.func_depth += 1
        try:
            return self.execute(self.functions[name], io)
        except FuncReturn as ret:
            return ret.code
        finally:
            self.func_depth -= 1
            self.positional = saved

    # ------------------------------------------------------------------------ redirections
    def _apply_redirects(self, redirects: list[ast.Redirect], io: IO) -> tuple[IO, Callable[[], None]] | None:
        """New IO for the command and a ``finish`` that writes captured files; None on error."""
        if not redirects:
            return io, lambda: None
        fds: dict[int, Output] = {1: io.stdout, 2: io.stderr}
        tty = {1: io.stdout_tty, 2: False}
        stdin = io.stdin
        files: list[tuple[str, Output, bool]] = []
        for r in redirects:
            target = expand_word_str(self, r.target)
            if r.op == "<<":
                body = r.heredoc[0] if r.heredoc else ""
                quoted = bool(r.heredoc) and len(r.heredoc) > 1 and r.heredoc[1] == "q"
                stdin = body if quoted else expand_heredoc(self, body)
            elif r.op == "<":
                content = self.fs.read(target)
                if content is None:
                    io.stderr.write(f"{self._prefix()}can't open '{target}': No such file or directory\n")
                    return None
                stdin = content
            elif r.op in (">&", "<&") and (target.isdigit() or target == "-"):
                if r.op == "<&":
                    continue
                if target == "-":
                    fds[r.fd] = NullOutput()
                else:
                    src_fd = int(target)
                    if src_fd not in fds:
                        io.stderr.write(f"{self._prefix()}{target}: Bad file descriptor\n")
                        return None
                    fds[r.fd] = fds[src_fd]
                    tty[r.fd] = tty.get(src_fd, False)
            else:  # >, >>, >|, &>, >& file
                out = fds.get(1) if target == "/dev/stdout" else fds.get(2) if target == "/dev/stderr" else None
                out = out or self._file_output(target, r.op == ">>", files)
                if out is None:
                    io.stderr.write(f"{self._prefix()}can't create {target}: nonexistent directory\n")
                    return None
                if r.op in ("&>", ">&"):
                    fds[1] = fds[2] = out
                    tty[1] = tty[2] = False
                else:
                    fds[r.fd] = out
                    tty[r.fd] = False

        def finish() -> None:
            for path, out, append in files:
                self.fs.write(path, out.getvalue(), append=append)

        new_io = IO(stdin, fds.get(1, NullOutput()), fds.get(2, NullOutput()), tty.get(1, False))
        return new_io, finish

    def _file_output(self, target: str, append: bool, files: list[tuple[str, Output, bool]]) -> Output | None:
        path = self.fs.abspath(target)
        if path == "/dev/null":
            return NullOutput()
        parent = posixpath.dirname(path)
        if not self.fs.is_dir(parent):
            return None
        out = Output()
        if not append:
            self.fs.write(path, "")
        files.append((path, out, append))
        return out

    # ------------------------------------------------------------------------ helpers
    def check_deadline(self) -> None:
        if self.deadline is not None and self.net.now() >= self.deadline:
            raise DeadlineExceeded()

    def _prefix(self) -> str:
        if self.shell_name == "bash":
            return f"bash: line {self.lineno}: "
        return f"{self.shell_name}: "

    def _snapshot(self) -> tuple:
        return (dict(self.vars), set(self.exported), list(self.positional), dict(self.functions),
                self.fs.cwd, self.errexit, self.nounset, self.pipefail)

    def _restore(self, snap: tuple) -> None:
        (self.vars, self.exported, self.positional, self.functions, self.fs.cwd,
         self.errexit, self.nounset, self.pipefail) = snap
