"""Programs a pod's image provides besides the network tools (busybox-style coreutils).

Each module exports ``COMMANDS: dict[name, fn(args, ctx) -> int]``; ``special`` holds the
builtins that mutate the shell itself and have a different signature.
"""

from __future__ import annotations

from ..context import CommandFn
from . import awk, basic, grep, sed, testcmd, text

COREUTILS: dict[str, CommandFn] = {}
for _mod in (basic, testcmd, text, grep, sed, awk):
    COREUTILS.update(_mod.COMMANDS)

__all__ = ["COREUTILS"]
