"""What a node's own shell sees besides its interfaces: files, listening sockets, iptables.

The seed's nodes are Vagrant VMs (Ubuntu 24.04, kubeadm, Cilium with kube-proxy replacement
and BPF masquerading), so:

- ``/etc/hosts`` is the Ubuntu box's file plus the lines the Vagrant provisioning appends
  (``192.168.10.100 k8s-ctr`` …, one per node);
- ``/var/lib/kubelet/kubeadm-flags.env`` carries the node's ``--node-ip``;
- there are no ``KUBE-SERVICES`` chains (no kube-proxy): only Cilium's ``CILIUM_*`` chains
  and the kubelet's ``KUBE-FIREWALL``/``KUBE-KUBELET-CANARY``; no MASQUERADE rule since
  masquerading happens in BPF (``enable-bpf-masquerade``).

Everything here is read from the lab (nodes, cilium-config, pod CIDRs), never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def node_file(lab, node: str, path: str) -> str | None:
    """The content of `path` on `node`, or None when the lab does not model it."""
    if node not in lab.cilium.nodes:
        return None
    if path == "/etc/hosts":
        return etc_hosts(lab, node)
    if path == "/var/lib/kubelet/kubeadm-flags.env":
        ip = lab.cilium.nodes[node].host.ip
        return (f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
                f'--node-ip={ip} --pod-infra-container-image={PAUSE_IMAGE}"\n')
    return None


def etc_hosts(lab, node: str) -> str:
    lines = ["127.0.0.1 localhost", "127.0.1.1 vagrant", "",
             "# The following lines are desirable for IPv6 capable hosts",
             "::1     ip6-localhost ip6-loopback", "fe00::0 ip6-localnet", "ff00::0 ip6-mcastprefix",
             "ff02::1 ip6-allnodes", "ff02::2 ip6-allrouters", f"127.0.2.1 {node} {node}"]
    lines += [f"{agent.host.ip} {name}" for name, agent in lab.cilium.nodes.items()]
    return "\n".join(lines) + "\n"


def cilium_config(lab) -> dict:
    cm = lab.store.get("ConfigMap", "kube-system", "cilium-config") or {}
    return cm.get("data") or {}


def control_plane(lab) -> str:
    return lab.cluster_config.control_plane.name


# -- listening sockets (`ss -tnlp`) -------------------------------------------------------------
@dataclass(frozen=True)
class Listener:
    address: str  # "0.0.0.0", "127.0.0.1", "*", "127.0.0.53%lo"
    port: int
    process: str
    pid: int
    fd: int


def _port(addr: str) -> int | None:
    try:
        return int(addr.rsplit(":", 1)[1]) if addr else None
    except (IndexError, ValueError):
        return None


def listeners(lab, node: str) -> list[Listener]:
    """TCP sockets in LISTEN state on the node (kubeadm control plane, kubelet, Cilium, sshd)."""
    cfg = cilium_config(lab)
    ip = lab.cilium.nodes[node].host.ip
    out = [Listener("127.0.0.53%lo", 53, "systemd-resolve", 512, 15),
           Listener("127.0.0.54", 53, "systemd-resolve", 512, 17),
           Listener("0.0.0.0", 22, "sshd", 1, 3),
           Listener("127.0.0.1", 10248, "kubelet", 2978, 13),
           Listener("*", 10250, "kubelet", 2978, 15),
           Listener("127.0.0.1", 9879, "cilium-agent", 4123, 47),
           Listener("127.0.0.1", 9890, "cilium-agent", 4123, 6),
           Listener("*", 4240, "cilium-agent", 4123, 61),
           Listener("*", 4244, "cilium-agent", 4123, 52)]
    if _port(cfg.get("prometheus-serve-addr", "")):
        out.append(Listener("*", _port(cfg["prometheus-serve-addr"]), "cilium-agent", 4123, 7))
    if _port(cfg.get("hubble-metrics-server", "")) and cfg.get("hubble-metrics"):
        out.append(Listener("*", _port(cfg["hubble-metrics-server"]), "cilium-agent", 4123, 44))
    if cfg.get("external-envoy-proxy", "true") == "true":
        out.append(Listener("0.0.0.0", 9964, "cilium-envoy", 3912, 24))
    if node == control_plane(lab):
        out += [Listener("*", 6443, "kube-apiserver", 1650, 3),
                Listener("127.0.0.1", 2379, "etcd", 1602, 9), Listener(ip, 2379, "etcd", 1602, 8),
                Listener(ip, 2380, "etcd", 1602, 7), Listener("127.0.0.1", 2381, "etcd", 1602, 14),
                Listener("127.0.0.1", 10257, "kube-controller", 1588, 3),
                Listener("127.0.0.1", 10259, "kube-scheduler", 1575, 3),
                Listener("127.0.0.1", 9234, "cilium-operator", 4010, 7)]
        if _port(cfg.get("operator-prometheus-serve-addr", "")):
            out.append(Listener("*", _port(cfg["operator-prometheus-serve-addr"]), "cilium-operator", 4010, 8))
    return sorted(out, key=lambda li: (li.address.replace("*", "~"), li.port))


# -- iptables under kube-proxy replacement ------------------------------------------------------
Table = list[tuple[str, str, list[str]]]  # (chain, policy or "-", rules)


def iptables_tables(lab, node: str) -> dict[str, Table]:
    """nat/filter/mangle/raw of a KPR node: Cilium's feeder rules and CILIUM_* chains only."""
    agent = lab.cilium.nodes[node]
    router = agent.router_ip
    cfg = cilium_config(lab)
    bpf_masq = cfg.get("enable-bpf-masquerade", "false") == "true"
    native_cidr = cfg.get("ipv4-native-routing-cidr", "")

    def feeder(chain: str) -> str:
        return f'-m comment --comment "cilium-feeder: {chain}" -j {chain}'

    proxy_pre = [
        '-m socket --transparent -m mark ! --mark 0xa00/0xf00 -m mark ! --mark 0x800/0xf00 -m comment '
        '--comment "cilium: any->pod redirect proxied traffic to host proxy" -j MARK --set-xmark 0x200/0xffffffff',
    ]
    mangle: Table = [
        ("PREROUTING", "ACCEPT", [feeder("CILIUM_PRE_mangle")]),
        ("INPUT", "ACCEPT", []), ("FORWARD", "ACCEPT", []), ("OUTPUT", "ACCEPT", []),
        ("POSTROUTING", "ACCEPT", [feeder("CILIUM_POST_mangle")]),
        ("CILIUM_POST_mangle", "-", []),
        ("CILIUM_PRE_mangle", "-", proxy_pre),
        ("KUBE-IPTABLES-HINT", "-", []), ("KUBE-KUBELET-CANARY", "-", []),
    ]
    filter_: Table = [
        ("INPUT", "ACCEPT", [feeder("CILIUM_INPUT"), "-j KUBE-FIREWALL"]),
        ("FORWARD", "ACCEPT", [feeder("CILIUM_FORWARD")]),
        ("OUTPUT", "ACCEPT", [feeder("CILIUM_OUTPUT"), "-j KUBE-FIREWALL"]),
        ("CILIUM_FORWARD", "-", [
            '-o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT',
            '-i cilium_host -m comment --comment "cilium: cluster->any on cilium_host forward accept (nodeport)" -j ACCEPT',
            '-i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept" -j ACCEPT',
            '-i cilium_net -m comment --comment "cilium: cluster->any on cilium_net forward accept (nodeport)" -j ACCEPT',
            '-o lxc+ -m comment --comment "cilium: any->cluster on lxc+ forward accept" -j ACCEPT',
            '-i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept (nodeport)" -j ACCEPT']),
        ("CILIUM_INPUT", "-", ['-m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT']),
        ("CILIUM_OUTPUT", "-", [
            '-m mark --mark 0xa00/0xe00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT',
            '-m mark --mark 0x800/0xe00 -m comment --comment "cilium: ACCEPT for l7 proxy upstream traffic" -j ACCEPT',
            '-m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0x400/0xf00 -m mark ! '
            '--mark 0xa00/0xe00 -m mark ! --mark 0x800/0xe00 -m mark ! --mark 0xf00/0xf00 -m comment --comment '
            '"cilium: host->any mark as from host" -j MARK --set-xmark 0xc00/0xf00']),
        ("KUBE-FIREWALL", "-", [
            '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" '
            '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP']),
        ("KUBE-KUBELET-CANARY", "-", []),
    ]
    post_nat = []
    if not bpf_masq and native_cidr:
        post_nat.append(f'-s {agent.pod_cidr} ! -d {native_cidr} ! -o cilium_+ -m comment --comment '
                        '"cilium masquerade non-cluster" -j MASQUERADE')
    post_nat += [
        '-m mark --mark 0xa00/0xe00 -m comment --comment "exclude proxy return traffic from masquerade" -j ACCEPT',
        f'-s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1 masquerade" '
        f'-j SNAT --to-source {router}',
        f'-o cilium_host -m mark --mark 0xf00/0xf00 -m conntrack --ctstate DNAT -m comment --comment '
        f'"hairpin traffic that originated from a local pod" -j SNAT --to-source {router}']
    nat: Table = [
        ("PREROUTING", "ACCEPT", [feeder("CILIUM_PRE_nat")]),
        ("INPUT", "ACCEPT", []),
        ("OUTPUT", "ACCEPT", [feeder("CILIUM_OUTPUT_nat")]),
        ("POSTROUTING", "ACCEPT", [feeder("CILIUM_POST_nat")]),
        ("CILIUM_OUTPUT_nat", "-", []), ("CILIUM_POST_nat", "-", post_nat), ("CILIUM_PRE_nat", "-", []),
        ("KUBE-KUBELET-CANARY", "-", []),
    ]
    raw: Table = [
        ("PREROUTING", "ACCEPT", [feeder("CILIUM_PRE_raw")]),
        ("OUTPUT", "ACCEPT", [feeder("CILIUM_OUTPUT_raw")]),
        ("CILIUM_OUTPUT_raw", "-", [
            '-o lxc+ -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" '
            '-j CT --notrack',
            '-o cilium_host -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return '
            'traffic" -j CT --notrack']),
        ("CILIUM_PRE_raw", "-", [
            '-m mark --mark 0x200/0xf00 -m comment --comment "cilium: NOTRACK for proxy traffic" -j CT --notrack']),
    ]
    return {"mangle": mangle, "raw": raw, "filter": filter_, "nat": nat}
