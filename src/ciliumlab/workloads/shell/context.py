"""The per-command context and the exec result.

Every builtin, tool and lead-wired command (``extra_commands``) has the same signature,
``fn(args: list[str], ctx: CommandContext) -> int``: ``args`` excludes the command name
(``ctx.name`` holds it), output goes through ``ctx.stdout`` / ``ctx.stderr`` and the return
value is the exit status. Keeping one small context object (instead of globals) lets the
interpreter redirect, pipe and capture any command the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..net import PodNet
    from .fs import MemFS

#: Exit status reported when the exec deadline cut the command short (like timeout(1)).
TIMEOUT_EXIT_CODE = 124


@dataclass
class ExecResult:
    """What ``kubectl exec`` hands back: both streams, the exit code, and whether we stopped it.

    ``exec_failed`` marks the case where the process never started (argv[0] not in the image):
    ``stderr`` then holds kubectl's own ``error: Internal error occurred: …`` line, which kubectl
    prints instead of ``command terminated with exit code N``.
    """

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False
    exec_failed: bool = False


class DeadlineExceeded(Exception):
    """The exec deadline was reached; unwinds the whole script keeping what was printed."""


class ShellExit(Exception):
    """``exit N`` (or a fatal shell error): unwinds to the nearest (sub)shell."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Output:
    """An append-only text sink; an optional ``sink`` callback sees every chunk as it is written
    (the served lab streams a long-running ``while true`` loop to the user this way)."""

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self._parts: list[str] = []
        self._sink = sink

    def write(self, text: str) -> None:
        if not text:
            return
        self._parts.append(text)
        if self._sink is not None:
            self._sink(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


class NullOutput(Output):
    """/dev/null."""

    def write(self, text: str) -> None:
        return None


@dataclass
class CommandContext:
    """Everything one command invocation may use.

    - ``name``: argv[0] as typed; ``stdin``: the whole input (pipes run stage by stage, so input
      is complete before a command starts).
    - ``stdout`` / ``stderr``: ``Output`` writers (``.write(str)``).
    - ``env``: the shell's exported variables (a copy; a command cannot change its parent).
    - ``net``: the pod's ``PodNet``; ``fs``: the per-exec in-memory files over ``net.read_file``.
    - ``deadline``: lab time at which the exec stops; use ``remaining()`` / ``check_deadline()``
      / ``sleep()`` so waits end on it with ``DeadlineExceeded``.
    - ``image``: the container image (tools adapt: busybox ping vs iputils ping).
    - ``tty``: whether stdout is a terminal (``kubectl exec -t``): curl shows its progress meter
      only when it is not.
    """

    name: str
    stdin: str
    stdout: Output
    stderr: Output
    env: dict[str, str]
    net: PodNet
    fs: MemFS
    deadline: float | None = None
    image: str = ""
    tty: bool = False
    stdout_is_tty: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - self.net.now()

    def deadline_reached(self) -> bool:
        """True once lab time has reached the deadline: a timeout seen now is the exec's, not
        the tool's own (the tool must not print its timeout error)."""
        return self.deadline is not None and self.net.now() >= self.deadline

    def check_deadline(self) -> None:
        if self.deadline is not None and self.net.now() >= self.deadline:
            raise DeadlineExceeded()

    def sleep(self, seconds: float) -> None:
        """Sleep in lab time, waking up (and unwinding) at the deadline."""
        left = self.remaining()
        if left is not None and seconds >= left:
            if left > 0:
                self.net.sleep(left)
            raise DeadlineExceeded()
        self.net.sleep(seconds)

    def read_file(self, path: str) -> str | None:
        return self.fs.read(path)


CommandFn = Callable[[list[str], CommandContext], int]
