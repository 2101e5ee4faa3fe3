"""The node tools' renderers against the real binaries, where this machine has them (root,
`unshare -n`, iptables-nft, iproute2's ss): the same rules are loaded into a throwaway network
namespace and every listing must come out byte for byte as the lab prints it. Skipped elsewhere."""

from __future__ import annotations

import copy
import difflib
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from ciliumlab import Lab
from ciliumlab.workloads.node import iptables_tables
from ciliumlab.workloads.tools.nodetools import _ss_render


def _netns_ok() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def _iptables_version() -> str | None:
    if not shutil.which("iptables"):
        return None
    r = subprocess.run(["iptables", "-V"], capture_output=True, text=True)
    m = re.match(r"iptables v(1\.8\.\d+) \(nf_tables\)", r.stdout)
    return m.group(1) if m else None


needs_netns = pytest.mark.skipif(not _netns_ok(), reason="needs root and unshare -n")

COMMANDS = ["iptables-save", "iptables -t nat -S", "iptables -S", "iptables -L", "iptables -L -n",
            "iptables -L -n -v", "iptables -t mangle -L -n -v", "iptables -t raw -L -v",
            "iptables -t nat -L -n --line-numbers", "iptables -t nat -nvL --line-numbers",
            "iptables -S CILIUM_OUTPUT", "iptables -L CILIUM_FORWARD -n -v", "iptables -S NOPE", "iptables"]
PROTO = {"0": "all", "6": "tcp", "17": "udp"}
DATE = re.compile(r"(on )\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")


def _lab(**changes) -> Lab:
    lab = Lab()
    cm = copy.deepcopy(lab.store.get("ConfigMap", "kube-system", "cilium-config"))
    cm["data"].update(changes)
    lab.store.update(cm)
    return lab


@needs_netns
@pytest.mark.skipif(_iptables_version() is None, reason="needs iptables-nft")
@pytest.mark.parametrize("node,changes", [
    ("k8s-w1", {}),
    ("k8s-w2", {"enable-bpf-masquerade": "false", "enable-endpoint-routes": "false"}),
    ("k8s-ctr", {"enable-bpf-masquerade": "false", "routing-mode": "tunnel", "iptables-random-fully": "true"}),
])
def test_iptables_output_matches_real_iptables(node, changes):
    lab = _lab(**changes)
    tables = iptables_tables(lab, node)
    setup = []
    for table, chains in tables.items():
        setup += [f"iptables -t {table} -N {chain}" for chain, policy, _ in chains if policy == "-"]
    for table, chains in tables.items():  # no ipset here: leave the node-set rule out on both sides
        setup += [f"iptables -t {table} -A {chain} {rule}" for chain, _, rules in chains for rule in rules
                  if "match-set" not in rule]
    script = "\n".join(setup) + "\n" + "\n".join(f"echo '@@@ {c}'; {c} 2>&1; echo rc=$?" for c in COMMANDS)
    real = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True)
    assert real.stderr == ""
    version = _iptables_version()
    diffs = []
    for part in real.stdout.split("@@@ ")[1:]:
        cmd, _, expected = part.partition("\n")
        expected = DATE.sub(r"\1DATE", expected.replace(f"v{version}", "v1.8.10"))
        if version == "1.8.9" and re.search(r" -\w*n", cmd):  # 1.8.9's numeric protocol, fixed in 1.8.10
            expected = re.sub(r"^(.*? [ !])(0|6|17) +--",
                              lambda m: m.group(1) + f"{PROTO[m.group(2)]:<5}--", expected, flags=re.M)
        r = lab.node_exec(node, cmd)
        got = DATE.sub(r"\1DATE", r.stdout + r.stderr + f"rc={r.exit_code}\n")
        if "match-set" in got:  # renumber as if the node-set rule were not there
            got = "\n".join(line for line in got.split("\n") if "match-set" not in line
                            and "cluster nodes from masquerade" not in line)
            if "--line-numbers" in cmd:
                continue
        if got != expected:
            diffs.append(cmd + "\n" + "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True))))
    assert not diffs, "\n".join(diffs)


SOCKETS = textwrap.dedent("""
    import ctypes, os, socket, subprocess, sys, time
    libc = ctypes.CDLL(None)
    def spawn(name, socks):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            libc.prctl(15, name.encode()[:15], 0, 0, 0)
            keep = []
            for proto, addr, port, opt in socks:
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if opt == "v6only":
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                elif opt:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, opt.encode())
                s.bind((addr, port))
                if proto == "tcp":
                    s.listen(4096)
                keep.append(s)
            os.write(w, b"x")
            time.sleep(30)
            os._exit(0)
        os.read(r, 1)
        return pid
    subprocess.run("ip link set lo up; ip link add eth0 type veth peer name x0; ip addr add 10.0.2.15/24 dev eth0;"
                   "ip link set eth0 up; ip addr add 192.168.10.100/24 dev x0; ip addr add 127.0.0.53/8 dev lo;"
                   "ip addr add 127.0.0.54/8 dev lo", shell=True, check=True)
    pids = [spawn("systemd-resolve", [("udp", "127.0.0.53", 53, "lo"), ("tcp", "127.0.0.53", 53, "lo"),
                                      ("udp", "127.0.0.54", 53, ""), ("tcp", "127.0.0.54", 53, "")]),
            spawn("systemd-network", [("udp", "10.0.2.15", 68, "eth0")]),
            spawn("sshd", [("tcp", "0.0.0.0", 22, ""), ("tcp", "::", 22, "v6only")]),
            spawn("kubelet", [("tcp", "127.0.0.1", 10248, ""), ("tcp", "::", 10250, "")]),
            spawn("cilium-agent", [("tcp", "::", 4240, ""), ("tcp", "0.0.0.0", 42591, ""),
                                   ("udp", "0.0.0.0", 42591, "")]),
            spawn("etcd", [("tcp", "192.168.10.100", 2379, "")]),
            spawn("kube-controller", [("tcp", "127.0.0.1", 10257, "")])]
    for cmd in sys.argv[1:]:
        print("@@@", cmd)
        print(subprocess.run(cmd.split(), capture_output=True, text=True).stdout, end="")
    for p in pids:
        os.kill(p, 9)
""")


@needs_netns
@pytest.mark.skipif(not shutil.which("ss"), reason="needs iproute2's ss")
def test_ss_renderer_matches_real_ss():
    cmds = ["ss -tnlp", "ss -tnl", "ss -tulpn", "ss -ulnp", "ss -Htnl"]
    real = subprocess.run(["unshare", "-n", sys.executable, "-c", SOCKETS, *cmds], capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    header = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port", "Peer Address:", "Port", "Process"]
    for part in real.stdout.split("@@@ ")[1:]:
        cmd, _, expected = part.partition("\n")
        netid, no_header = "u" in cmd and "t" in cmd, "-H" in cmd
        rows = []
        for line in expected.splitlines()[0 if no_header else 1:]:
            f = line.split()
            nid, f = (f[0], f[1:]) if netid else ("", f)
            local, peer = f[3].rsplit(":", 1), f[4].rsplit(":", 1)
            rows.append([nid, f[0], f"{int(f[1]):<6}", f"{int(f[2]):<6}", local[0] + ":", local[1], peer[0] + ":",
                         peer[1], " " + f[5] if len(f) > 5 else ""])
        cols = [c for c in range(len(header)) if netid or c]
        assert _ss_render(([] if no_header else [header]) + rows, cols, no_header) == expected, cmd
