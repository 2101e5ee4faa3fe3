"""`ciliumlab cilium-dbg --node NODE [ARGS...]`: the agent's debug CLI for one node.

Against the served lab (running in the state dir) it runs `cilium-dbg ARGS` in NODE's agent pod
through the real kubectl (the same pod lookup as `ciliumlab ssh`); without a served lab it runs in
a fresh embedded lab (`run_dbg`). The exit status passes through.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from ..served.state import StateDir
from .ssh import agent_exec


def _unknown(node: str) -> None:
    sys.stderr.write(f"Error: unknown node {node!r}\n")
    sys.exit(1)


@click.command("cilium-dbg", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--state-dir", type=click.Path(path_type=Path), default=None,
              help="State directory (default: $CILIUMLAB_HOME or ~/.ciliumlab).")
@click.option("--node", required=True, help="The node whose cilium agent to query (e.g. k8s-w1).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cilium_dbg(state_dir: Path | None, node: str, args: tuple[str, ...]) -> None:
    """Run `cilium-dbg ARGS` in NODE's cilium agent."""
    argv = list(args)
    if argv and argv[0] == "--":
        argv = argv[1:]
    state = StateDir(state_dir)
    if state.running_pid() is not None:
        found = agent_exec(state, node)
        if found is None:
            _unknown(node)
        exec_argv, env = found
        proc = subprocess.run([*exec_argv, "--", "cilium-dbg", *argv], env=env)
        sys.exit(proc.returncode)
    from ..cilium.dbg import run_dbg
    from ..lab import Lab

    lab = Lab()
    if node not in {n.name for n in lab.cluster_config.nodes}:
        _unknown(node)
    sys.exit(run_dbg(lab, node, argv, sys.stdout, sys.stderr))
