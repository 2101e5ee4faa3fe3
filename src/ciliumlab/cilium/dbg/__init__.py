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


def agent_commands(lab, pod: dict, container: dict) -> dict:
    """The extra programs of an agent container (`cilium-dbg`, `cilium`); {} for any other."""
    fn = cilium_dbg_factory(lab, pod, container)
    return {"cilium-dbg": fn, "cilium": fn} if fn is not None else {}


__all__ = ["MonitorSession", "agent_commands", "cilium_dbg_factory", "is_agent_container", "run_dbg",
           "start_monitor"]
