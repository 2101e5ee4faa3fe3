"""`ciliumlab ssh NODE [-- CMD...]`: a shell on a lab node (the seed's `ssh k8s-w1 …`).

Against the served lab (running in the state dir) the command runs through the real kubectl
in the node's cilium agent pod (hostNetwork: it sees the node's interfaces, listeners, iptables
and files); without a served lab it runs in a fresh embedded lab (`Lab.node_exec`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click

from ..served.state import StateDir


def _kubectl(state: StateDir) -> tuple[list[str], dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise click.ClickException("kubectl not found in PATH (needed to reach the served lab)")
    env = {**os.environ, "KUBECONFIG": str(state.path / "kubeconfig")}
    return [kubectl], env


def agent_pod(state: StateDir, node: str) -> str | None:
    cmd, env = _kubectl(state)
    proc = subprocess.run([*cmd, "get", "pod", "-n", "kube-system", "-l", "k8s-app=cilium",
                           "--field-selector", f"spec.nodeName={node}",
                           "-o", "jsonpath={.items[0].metadata.name}"], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return None
    return proc.stdout.strip() or None


def agent_exec(state: StateDir, node: str) -> tuple[list[str], dict] | None:
    """`kubectl exec` argv (up to the container) into NODE's agent pod, and its env; None: no such node."""
    pod = agent_pod(state, node)
    if pod is None:
        return None
    cmd, env = _kubectl(state)
    return [*cmd, "exec", "-n", "kube-system", pod, "-c", "cilium-agent"], env


@click.command("ssh", context_settings={"ignore_unknown_options": True})
@click.option("--state-dir", type=click.Path(path_type=Path), default=None,
              help="State directory (default: $CILIUMLAB_HOME or ~/.ciliumlab).")
@click.argument("node")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh(state_dir: Path | None, node: str, command: tuple[str, ...]) -> None:
    """Run COMMAND (default: an interactive bash) on NODE's host network namespace."""
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    script = argv[0] if len(argv) == 1 else shlex.join(argv)
    state = StateDir(state_dir)
    if state.running_pid() is not None:
        found = agent_exec(state, node)
        if found is None:
            sys.stderr.write(f"ssh: Could not resolve hostname {node}: Name or service not known\n")
            sys.exit(255)
        exec_argv, env = found
        # the agent is privileged: nsenter into the node's mount namespace, as Cilium's init containers do
        exec_argv += ["-it", "--", "bash"] if not argv else ["--", "nsenter", "--mount=/hostproc/1/ns/mnt", "--",
                                                            "sh", "-c", script]
        proc = subprocess.run(exec_argv, env=env)
        sys.exit(proc.returncode)
    if not argv:
        raise click.ClickException("no served lab is running (`ciliumlab up`): give a command to run in an "
                                   "embedded lab, e.g. `ciliumlab ssh k8s-w1 -- ip addr`")
    from ..errors import NotFound
    from ..lab import Lab

    lab = Lab()
    try:
        result = lab.node_exec(node, script)
    except NotFound:
        sys.stderr.write(f"ssh: Could not resolve hostname {node}: Name or service not known\n")
        sys.exit(255)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.exit_code)
