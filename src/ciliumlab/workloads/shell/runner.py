"""``run_command``: what happens when ``kubectl exec <pod> -- <command>`` reaches the container.

argv lists are exec'd directly (so a missing binary is the container runtime's error, not the
shell's); ``sh -c SCRIPT`` and plain strings run through the shell interpreter.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from .builtins import COREUTILS
from .context import TIMEOUT_EXIT_CODE, CommandFn, DeadlineExceeded, ExecResult, Output, ShellExit
from .images import profile
from .interpreter import IO, Interpreter

if TYPE_CHECKING:
    from ..net import PodNet

SHELL_NAMES = {"sh", "ash", "bash", "dash"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _tools() -> dict[str, CommandFn]:
    from ..tools import TOOLS

    return TOOLS


def exec_error(name: str, argv: list[str]) -> str:
    """kubectl's message when the runtime cannot start argv[0] (containerd 1.7 + runc)."""
    exec_id = hashlib.sha256(" ".join(argv).encode()).hexdigest()
    return (
        "error: Internal error occurred: error executing command in container: failed to exec in "
        f'container: failed to start exec "{exec_id}": OCI runtime exec failed: exec failed: unable '
        f'to start container process: exec: "{name}": executable file not found in $PATH: unknown\n'
    )


def run_command(net: PodNet, command: str | list[str], *, stdin: str | None = None,
                env: dict[str, str] | None = None, deadline: float | None = None, image: str = "",
                extra_commands: dict[str, Callable] | None = None, tty: bool = False,
                stream: Callable[[str, str], None] | None = None) -> ExecResult:
    """Run ``command`` in the pod whose network is ``net``.

    - ``command``: argv list (exec'd directly; ``sh -c SCRIPT`` runs SCRIPT) or a script string.
    - ``deadline``: lab time (``net.now()`` scale) at which the exec is cut short: output so far
      is returned with ``timed_out=True`` and exit code 124 (``TIMEOUT_EXIT_CODE``).
    - ``extra_commands``: name → ``fn(args, ctx) -> int`` (see ``CommandContext``); they take
      precedence over the image's programs and are available in every image.
    - ``tty``: ``kubectl exec -t`` (curl then shows no progress meter, ``-v`` no ``{ [n bytes data]``).
    - ``stream``: optional ``fn(stream_name, text)`` called as "stdout"/"stderr" text is produced,
      for serving long-running loops live.
    """
    prof = profile(image)
    extra = dict(extra_commands or {})
    tools = _tools()

    def nested_shell(args: list[str], ctx) -> int:
        """`sh -c '...'` inside a script: a child shell of the same image, same deadline."""
        child = run_command(ctx.net, [ctx.name, *args], stdin=ctx.stdin, env=ctx.env, deadline=ctx.deadline,
                            image=image, extra_commands=extra_commands, tty=ctx.tty)
        ctx.stdout.write(child.stdout)
        ctx.stderr.write(child.stderr)
        if child.timed_out:
            raise DeadlineExceeded()
        return child.exit_code

    def lookup(name: str) -> Callable | None:
        base = posixpath.basename(name) if "/" in name else name
        if base in extra:
            return extra[base]
        if base in prof.shells:
            return nested_shell
        if base not in prof.programs:
            return None
        return COREUTILS.get(base) or tools.get(base)

    out = Output((lambda t: stream("stdout", t)) if stream else None)
    err = Output((lambda t: stream("stderr", t)) if stream else None)
    full_env = {"PATH": DEFAULT_PATH, "HOSTNAME": net.hostname, "HOME": "/root"}
    full_env.update(env or {})

    argv = [command] if isinstance(command, str) else list(command)
    if not argv or (isinstance(command, list) and not command):
        return ExecResult("", "error: you must specify at least one command for the container\n", 1,
                          exec_failed=True)

    script: str | None
    shell_name = "sh"
    positional: list[str] = []
    arg0 = "sh"
    flags = ""
    if isinstance(command, str):
        if "sh" not in prof.shells:
            return ExecResult("", exec_error("sh", ["sh", "-c", command]), 1, exec_failed=True)
        script = command
    else:
        name = posixpath.basename(argv[0])
        if name in SHELL_NAMES:
            if name not in prof.shells:
                return ExecResult("", exec_error(argv[0], argv), 1, exec_failed=True)
            shell_name = "bash" if name == "bash" else "sh"
            script, arg0, positional, flags = _shell_args(argv[1:], stdin)
            if script is None:
                script = stdin or ""
        else:
            if lookup(argv[0]) is None:
                return ExecResult("", exec_error(argv[0], argv), 1, exec_failed=True)
            script = None

    sh = Interpreter(net, env=full_env, image=image, deadline=deadline, commands=lookup,
                     shell_name=shell_name, tty=tty)
    sh.arg0 = arg0
    sh.positional = positional
    io = IO(stdin or "", out, err, stdout_tty=tty)
    sh.current_stderr = err
    timed_out = False
    try:
        if script is None:
            code = sh.run_argv(argv, io)
        else:
            if "e" in flags:
                sh.errexit = True
            code = sh.run_script(script, io)
    except ShellExit as exc:
        code = exc.code
    except DeadlineExceeded:
        code, timed_out = TIMEOUT_EXIT_CODE, True
    return ExecResult(out.getvalue(), err.getvalue(), code, timed_out)


def _shell_args(args: list[str], stdin: str | None) -> tuple[str | None, str, list[str], str]:
    """Parse ``sh [-e] [-x] -c SCRIPT [ARG0 [ARGS…]]`` → (script, $0, positional, flags)."""
    flags = ""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in ("-", "--"):
        flags += args[i][1:]
        i += 1
    if "c" in flags:
        if i >= len(args):
            return "", "sh", [], flags
        script = args[i]
        rest = args[i + 1:]
        return script, (rest[0] if rest else "sh"), rest[1:], flags
    return None, "sh", args[i:], flags
