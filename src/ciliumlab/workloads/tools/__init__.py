"""Client network tools run inside pods: curl, wget, ping, nslookup/host, dig, nc, ip.

Each talks only to the pod's ``PodNet`` and reproduces the real tool's messages and exit
codes; ``TOOLS`` maps the program name to ``fn(args, ctx) -> int``.
"""

from __future__ import annotations

from ..shell.context import CommandFn
from . import curl, dig, ip, nc, nodetools, nslookup, ping, wget

TOOLS: dict[str, CommandFn] = {}
for _mod in (curl, dig, ip, nc, nodetools, nslookup, ping, wget):
    TOOLS.update(_mod.COMMANDS)

__all__ = ["TOOLS"]
