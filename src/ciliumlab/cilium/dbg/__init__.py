"""`cilium-dbg` (the agent's debug CLI, `cilium` in older images) against the lab's agent state.

One module per command family (endpoint, identity, ip, service + bpf lb, bpf ct/policy, policy,
status, monitor; `extra`: config, bpf nat/fs, policy selectors, map, metrics, cgroups, statedb); output layouts follow spec/hubble/metrics-export.md (e). Entry points:

- `run_dbg(lab, node, argv, out, err, deadline=None)`: one invocation on a node's agent;
- `cilium_dbg_factory(lab, pod, container)`: the exec hook (`app[EXEC_COMMANDS]`, `Lab.exec`)
  giving the agent container its `cilium-dbg`/`cilium` commands;
- `start_monitor(lab, node, args, out)`: an open `cilium-dbg monitor` for embedded use.
"""

from __future__ import annotations

from .cli import run_dbg
from .monitor import MonitorSession, start_monitor

AGENT_IMAGE = "quay.io/cilium/cilium:"


def is_agent_container(container: dict) -> bool:
    return str(container.get("image", "")).startswith(AGENT_IMAGE)


def cilium_dbg_factory(lab, pod: dict, container: dict):
    """`fn(args, ctx) -> int` running cilium-dbg on the pod's node, or None outside the agent."""
    if not is_agent_container(container):
        return None
    node = (pod.get("spec") or {}).get("nodeName", "")

    def cilium_dbg(args: list[str], ctx) -> int:
        import posixpath

        name = posixpath.basename(ctx.name) or "cilium-dbg"
        return run_dbg(lab, node, list(args), ctx.stdout, ctx.stderr, deadline=ctx.deadline, sleep=ctx.sleep,
                       name=name)

    return cilium_dbg


def nsenter_factory(lab, pod: dict, container: dict):
    """`nsenter` in the (privileged) agent container: `nsenter --mount=/hostproc/1/ns/mnt -- CMD`,
    as Cilium's own init containers use it, runs CMD in the node's namespaces — the node's files and
    tools (Ubuntu's curl, dig, ping …), what `ciliumlab ssh` needs against the served lab."""
    if not is_agent_container(container):
        return None
    node = (pod.get("spec") or {}).get("nodeName", "")

    def nsenter(args: list[str], ctx) -> int:
        import shlex

        rest = list(args)
        while rest and rest[0].startswith("-") and rest[0] != "--":
            flag = rest.pop(0)
            if flag in ("-t", "--target") and rest:
                rest.pop(0)
        if rest and rest[0] == "--":
            rest.pop(0)
        timeout = None if ctx.deadline is None else max(0.0, ctx.deadline - lab.clock.now())
        result = lab.node_exec(node, shlex.join(rest) if rest else "sh", stdin=ctx.stdin, timeout=timeout)
        ctx.stdout.write(result.stdout)
        ctx.stderr.write(result.stderr)
        return result.exit_code

    return nsenter


def agent_commands(lab, pod: dict, container: dict) -> dict:
    """The extra programs of an agent container (`cilium-dbg`, `cilium`, `nsenter`); {} for any other."""
    fn = cilium_dbg_factory(lab, pod, container)
    if fn is None:
        return {}
    return {"cilium-dbg": fn, "cilium": fn, "nsenter": nsenter_factory(lab, pod, container)}


__all__ = ["MonitorSession", "agent_commands", "cilium_dbg_factory", "is_agent_container", "nsenter_factory",
           "run_dbg", "start_monitor"]
