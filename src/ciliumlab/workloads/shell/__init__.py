"""The exec shell: what ``kubectl exec <pod> -- <command>`` runs inside a lab pod.

A POSIX-subset shell (lexer → parser → interpreter) plus busybox-style coreutils, with the
client network tools from ``ciliumlab.workloads.tools`` talking to the pod's ``PodNet``.
Everything runs in lab time, so ``while true; do curl …; sleep 1; done`` is finite under a
deadline and instant under the virtual clock.
"""

from .context import TIMEOUT_EXIT_CODE, CommandContext, CommandFn, DeadlineExceeded, ExecResult, Output
from .runner import run_command

__all__ = [
    "TIMEOUT_EXIT_CODE", "CommandContext", "CommandFn", "DeadlineExceeded", "ExecResult", "Output",
    "run_command",
]
