"""`run_dbg`: argv after `cilium-dbg` → one command family module; cobra-style errors."""

from __future__ import annotations

from . import bpf, endpoint, extra, identity, ip, monitor, policy, service, status
from .common import Dbg, Fatal, UsageError

HELP = """CLI for interacting with the local Cilium Agent

Usage:
  cilium-dbg [command]

Available Commands:
  bpf         Direct access to local BPF maps
  cgroups     Cgroup metadata
  config      Cilium configuration options
  endpoint    Manage endpoints
  help        Help about any command
  identity    Manage security identities
  ip          Manage IP addresses and associated information
  map         Access userspace cached content of BPF maps
  metrics     Access metric status
  monitor     Display BPF program events
  policy      Manage security policies
  service     Manage services & loadbalancers
  statedb     Inspect StateDB
  status      Display status of daemon
  version     Print version information

Flags:
  -D, --debug         Enable debug messages
  -h, --help          help for cilium-dbg
  -H, --host string   URI to server-side API

Use "cilium-dbg [command] --help" for more information about a command.
"""

COMMANDS = {
    "status": status.run, "endpoint": endpoint.run, "ep": endpoint.run, "identity": identity.run,
    "ip": ip.run, "service": service.run_service, "bpf": bpf.run, "policy": policy.run,
    "monitor": monitor.run, "config": extra.run_config, "map": extra.run_map, "metrics": extra.run_metrics,
    "cgroups": extra.run_cgroups, "statedb": extra.run_statedb,
}


def run_dbg(lab, node: str, argv: list[str], out, err, *, deadline: float | None = None, sleep=None,
            name: str = "cilium-dbg") -> int:
    """Run `cilium-dbg ARGV` in the agent of `node`; output to `out`/`err` (`.write(str)`).

    `deadline` (lab time) ends a `monitor`; `sleep(seconds)` is the exec's own wait, which must
    raise when the exec ends (the shell's `CommandContext.sleep`). Returns the exit status."""
    dbg = Dbg(lab, node, out, err, name=name, deadline=deadline, sleep=sleep)
    args = [a for a in argv if a not in ("-D", "--debug")]
    if not args or args[0] in ("-h", "--help", "help"):
        out.write(HELP.replace("cilium-dbg", name))
        return 0
    cmd, rest = args[0], args[1:]
    if cmd == "version":
        v = lab.cluster_config.cilium_version
        out.write(f"Client: {v} {status._commit(v)} go version go1.23.10 linux/amd64\n"
                  f"Daemon: {v} {status._commit(v)} go version go1.23.10 linux/amd64\n")
        return 0
    fn = COMMANDS.get(cmd)
    try:
        if fn is None:
            raise UsageError(f'unknown command "{cmd}" for "{name}"')
        return fn(dbg, rest)
    except UsageError as exc:
        where = f"{name} {exc.command}".strip()
        err.write(f"Error: {exc}\nRun '{where} --help' for usage.\n")
        return 1
    except Fatal as exc:
        err.write(f"Error: {exc}\n")  # cilium-dbg's Fatalf
        return 1
