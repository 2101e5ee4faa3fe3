"""What a node's own shell sees besides its interfaces: files, listening sockets, iptables.

The seed's nodes are Vagrant VMs (Ubuntu 24.04, kubeadm, Cilium with kube-proxy replacement
and BPF masquerading), so:

- ``/etc/hosts`` is the Ubuntu box's file plus the lines the Vagrant provisioning appends
  (``192.168.10.100 k8s-ctr`` …, one per node);
- ``/var/lib/kubelet/kubeadm-flags.env`` carries the node's ``--node-ip``;
- there are no ``KUBE-SERVICES`` chains (no kube-proxy): only the rules Cilium's iptables manager
  (``pkg/datapath/iptables``) installs for the live cilium-config, plus the kubelet's
  ``KUBE-FIREWALL``/``KUBE-KUBELET-CANARY``/``KUBE-IPTABLES-HINT``; with ``enable-bpf-masquerade``
  ``CILIUM_POST_nat`` stays empty (masquerading happens in BPF);
- ``ip``/``ifconfig`` details the kernel and iproute2 add on Ubuntu 24.04: ``fq_codel`` on the
  VirtualBox NICs, ``altname enp0s3``/``enp0s8``, DHCP (``dynamic``, ``metric 100``) on eth0,
  ``NOARP`` on cilium_host/cilium_net, EUI-64 link-local IPv6 addresses, ``link-netns cni-…``;
- the routes Cilium installs carry ``proto kernel``.

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


# -- listening sockets (`ss -tulpn`) -----------------------------------------------------------
@dataclass(frozen=True)
class Listener:
    address: str  # "0.0.0.0", "127.0.0.1", "*", "[::]", "127.0.0.53%lo"
    port: int
    process: str
    pid: int
    fd: int
    proto: str = "tcp"  # "tcp" (LISTEN) or "udp" (UNCONN)
    backlog: int = 4096  # Send-Q of a listening socket: the listen() backlog (somaxconn 4096)
    also: tuple[tuple[str, int, int], ...] = ()  # further (process, pid, fd) sharing the socket


def _port(addr: str) -> int | None:
    try:
        return int(addr.rsplit(":", 1)[1]) if addr else None
    except (IndexError, ValueError):
        return None


def listeners(lab, node: str) -> list[Listener]:
    """Sockets in LISTEN (TCP) or UNCONN (UDP) state on the node: systemd-resolved, the
    socket-activated sshd of Ubuntu 24.04, systemd-networkd's DHCP client, kubelet, Cilium
    (agent, DNS proxy, envoy) and, on the control plane, kubeadm's static pods."""
    cfg = cilium_config(lab)
    agent = lab.cilium.nodes[node]
    ip = agent.host.ip
    dhcp_ip = agent.host.ips[-1] if len(agent.host.ips) > 1 else ip
    systemd = (("systemd", 1, 97),)
    out = [Listener("127.0.0.53%lo", 53, "systemd-resolve", 512, 14),
           Listener("127.0.0.54", 53, "systemd-resolve", 512, 16),
           Listener("127.0.0.53%lo", 53, "systemd-resolve", 512, 13, "udp", 0),
           Listener("127.0.0.54", 53, "systemd-resolve", 512, 15, "udp", 0),
           Listener(f"{dhcp_ip}%eth0", 68, "systemd-network", 461, 21, "udp", 0),
           Listener("0.0.0.0", 22, "sshd", 1013, 3, also=systemd),
           Listener("[::]", 22, "sshd", 1013, 4, also=(("systemd", 1, 98),)),
           Listener("127.0.0.1", 10248, "kubelet", 2978, 13),
           Listener("*", 10250, "kubelet", 2978, 15),
           Listener("127.0.0.1", 9879, "cilium-agent", 4123, 47),
           Listener("127.0.0.1", 9890, "cilium-agent", 4123, 6),
           Listener("*", 4240, "cilium-agent", 4123, 61),
           Listener("*", 4244, "cilium-agent", 4123, 52)]
    dns_port = dns_proxy_port(lab)
    if dns_port:  # the DNS proxy listens on every address (IP_TRANSPARENT), TCP and UDP
        out += [Listener("0.0.0.0", dns_port, "cilium-agent", 4123, 63),
                Listener("0.0.0.0", dns_port, "cilium-agent", 4123, 62, "udp", 0)]
    if _port(cfg.get("prometheus-serve-addr", "")):
        out.append(Listener("*", _port(cfg["prometheus-serve-addr"]), "cilium-agent", 4123, 7))
    if _port(cfg.get("hubble-metrics-server", "")) and cfg.get("hubble-metrics"):
        out.append(Listener("*", _port(cfg["hubble-metrics-server"]), "cilium-agent", 4123, 44))
    if cfg.get("external-envoy-proxy", "true") == "true":
        out += [Listener("0.0.0.0", 9964, "cilium-envoy", 3912, 24),
                Listener("127.0.0.1", 9878, "cilium-envoy", 3912, 25)]
    if node == control_plane(lab):
        out += [Listener("*", 6443, "kube-apiserver", 1650, 3),
                Listener("127.0.0.1", 2379, "etcd", 1602, 9), Listener(ip, 2379, "etcd", 1602, 8),
                Listener(ip, 2380, "etcd", 1602, 7), Listener("127.0.0.1", 2381, "etcd", 1602, 14),
                Listener("127.0.0.1", 10257, "kube-controller", 1588, 3),
                Listener("127.0.0.1", 10259, "kube-scheduler", 1575, 3),
                Listener("127.0.0.1", 9234, "cilium-operator", 4010, 7)]
        if _port(cfg.get("operator-prometheus-serve-addr", "")):
            out.append(Listener("*", _port(cfg["operator-prometheus-serve-addr"]), "cilium-operator", 4010, 8))
    # the kernel's dump order: IPv4 sockets before the IPv6 ("*", "[::]") ones
    return sorted(out, key=lambda li: (li.address.startswith(("*", "[")), li.address, li.port))


def dns_proxy_port(lab) -> int:
    """The DNS proxy's port (0 when `enable-l7-proxy` is off)."""
    if cilium_config(lab).get("enable-l7-proxy", "true") != "true":
        return 0
    proxy = getattr(getattr(lab, "fabric", None), "dns_proxy", None)
    return int(getattr(proxy, "port", 0) or 0)


# -- iptables as Cilium's iptables manager leaves it -------------------------------------------
Table = list[tuple[str, str, list[str]]]  # (chain, policy or "-", rules as iptables-save prints them)

# linux_defaults marks, as iptables prints them ("%#x")
TO_PROXY = "0x200/0xf00"  # MagicMarkIsToProxy/MagicMarkHostMask
FROM_PROXY = "0xa00/0xe00"  # MagicMarkIsProxy/MagicMarkProxyMask
PROXY_REPLY = "0xa00/0xfffffeff"  # MagicMarkIsProxy/MagicMarkProxyNoIDMask
L7_UPSTREAM = "0x800/0xe00"  # MagicMarkIsProxyEPID/MagicMarkProxyMask


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def _feeder(chain: str) -> str:
    return f"{_comment('cilium-feeder: ' + chain)} -j {chain}"


def tproxy_mark(port: int) -> str:
    """MagicMarkIsToProxy | htons(port) << 16, as `iptables -S` prints the match."""
    return hex(0x200 | (((port & 0xFF) << 8 | port >> 8) << 16))


def iptables_tables(lab, node: str) -> dict[str, Table]:
    """mangle/raw/filter/nat of a node, in iptables-save's table order (iptables-nft)."""
    agent = lab.cilium.nodes[node]
    cfg = cilium_config(lab)

    def on(key: str, default: str = "false") -> bool:
        return cfg.get(key, default) == "true"

    router, alloc = agent.router_ip, agent.pod_cidr
    native = cfg.get("ipv4-native-routing-cidr", "")
    tunnel = cfg.get("routing-mode", "tunnel") == "tunnel"
    # IptablesMasqueradingIPv4Enabled(): IPv4 masquerade without BPF masquerade
    ipt_masq = on("enable-ipv4-masquerade", "true") and not on("enable-bpf-masquerade")
    endpoint_routes = on("enable-endpoint-routes")
    delivery = "lxc+" if endpoint_routes else "cilium_host"  # getDeliveryInterface()

    # installStaticProxyRules (+ the TPROXY rules of the proxies started at boot)
    pre_mangle = [f"-m socket --transparent -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0x800/0xf00 "
                  f"{_comment('cilium: any->pod redirect proxied traffic to host proxy')} "
                  "-j MARK --set-xmark 0x200/0xffffffff"]
    dns_port = dns_proxy_port(lab)
    if dns_port:
        pre_mangle += [f"-p {proto} -m mark --mark {tproxy_mark(dns_port)} "
                       f"{_comment('cilium: TPROXY to host cilium-dns-egress proxy')} "
                       f"-j TPROXY --on-port {dns_port} --on-ip 127.0.0.1 --tproxy-mark 0x200/0xffffffff"
                       for proto in ("tcp", "udp")]
    pre_raw = [f"-m mark --mark {TO_PROXY} {_comment('cilium: NOTRACK for proxy traffic')} -j CT --notrack"]
    output_raw = [f"-o {dev} -m mark --mark {mark} {_comment(text)} -j CT --notrack"
                  for mark, text in ((PROXY_REPLY, "cilium: NOTRACK for proxy return traffic"),
                                     (L7_UPSTREAM, "cilium: NOTRACK for L7 proxy upstream traffic"))
                  for dev in ("lxc+", "cilium_host")]
    if on("install-no-conntrack-iptables-rules") and native:  # addNoTrackPodTrafficRules: -I, -s then -d
        notrack = [f"-{d} {native} {_comment('cilium: NOTRACK for pod traffic')} -j CT --notrack" for d in "ds"]
        pre_raw, output_raw = notrack + pre_raw, notrack + output_raw

    forward = [f"-o cilium_host {_comment('cilium: any->cluster on cilium_host forward accept')} -j ACCEPT",
               f"-i cilium_host {_comment('cilium: cluster->any on cilium_host forward accept (nodeport)')} -j ACCEPT",
               f"-i lxc+ {_comment('cilium: cluster->any on lxc+ forward accept')} -j ACCEPT",
               f"-i cilium_net {_comment('cilium: cluster->any on cilium_net forward accept (nodeport)')} -j ACCEPT"]
    if delivery != "cilium_host":
        forward += [f"-o {delivery} {_comment(f'cilium: any->cluster on {delivery} forward accept')} -j ACCEPT",
                    f"-i {delivery} {_comment(f'cilium: cluster->any on {delivery} forward accept (nodeport)')} "
                    "-j ACCEPT"]
    output = [f"-m mark --mark {FROM_PROXY} {_comment('cilium: ACCEPT for proxy traffic')} -j ACCEPT",
              f"-m mark --mark {L7_UPSTREAM} {_comment('cilium: ACCEPT for l7 proxy upstream traffic')} -j ACCEPT",
              # installHostTrafficMarkRule: not IPsec, overlay, proxy, proxy EPID nor DNS-proxy traffic
              "-m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0x400/0xf00 "
              "-m mark ! --mark 0xa00/0xe00 -m mark ! --mark 0x800/0xe00 -m mark ! --mark 0xf00/0xf00 "
              f"{_comment('cilium: host->any mark as from host')} -j MARK --set-xmark 0xc00/0xf00"]

    post_nat: list[str] = []
    if ipt_masq:  # installMasqueradeRules
        if not tunnel:  # NodeIpsetNeeded
            post_nat.append(f"-s {alloc} -m set --match-set cilium_node_set_v4 dst "
                            f"{_comment('exclude traffic to cluster nodes from masquerade')} -j ACCEPT")
        post_nat.append(f"-s {alloc} ! -d {native or alloc} ! -o cilium_+ "
                        f"{_comment('cilium masquerade non-cluster')} -j MASQUERADE"
                        + (" --random-fully" if on("iptables-random-fully") else ""))
        post_nat.append(f"-m mark --mark {FROM_PROXY} {_comment('exclude proxy return traffic from masquerade')} "
                        "-j ACCEPT")
        if tunnel:
            post_nat.append(f"! -s {alloc} ! -d {alloc} -o cilium_host "
                            f"{_comment('cilium host->cluster masquerade')} -j SNAT --to-source {router}")
        post_nat.append(f"-s 127.0.0.1/32 -o {delivery} {_comment('cilium host->cluster from 127.0.0.1 masquerade')} "
                        f"-j SNAT --to-source {router}")
        if not endpoint_routes:
            post_nat.append(f"-o {delivery} -m mark --mark 0xf00/0xf00 -m conntrack --ctstate DNAT "
                            f"{_comment('hairpin traffic that originated from a local pod')} -j SNAT --to-source {router}")

    kube_firewall = ('! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" '
                     "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP")
    # base chains in hook order, then user chains sorted by name (as iptables-nft lists them);
    # the kubelet prepends its KUBE-FIREWALL jumps before the agent appends its feeders
    mangle: Table = [
        ("PREROUTING", "ACCEPT", [_feeder("CILIUM_PRE_mangle")]),
        ("INPUT", "ACCEPT", []), ("FORWARD", "ACCEPT", []), ("OUTPUT", "ACCEPT", []),
        ("POSTROUTING", "ACCEPT", [_feeder("CILIUM_POST_mangle")]),
        ("CILIUM_POST_mangle", "-", []), ("CILIUM_PRE_mangle", "-", pre_mangle),
        ("KUBE-IPTABLES-HINT", "-", []), ("KUBE-KUBELET-CANARY", "-", []),
    ]
    raw: Table = [
        ("PREROUTING", "ACCEPT", [_feeder("CILIUM_PRE_raw")]),
        ("OUTPUT", "ACCEPT", [_feeder("CILIUM_OUTPUT_raw")]),
        ("CILIUM_OUTPUT_raw", "-", output_raw), ("CILIUM_PRE_raw", "-", pre_raw),
    ]
    filter_: Table = [
        ("INPUT", "ACCEPT", ["-j KUBE-FIREWALL", _feeder("CILIUM_INPUT")]),
        ("FORWARD", "ACCEPT", [_feeder("CILIUM_FORWARD")]),
        ("OUTPUT", "ACCEPT", ["-j KUBE-FIREWALL", _feeder("CILIUM_OUTPUT")]),
        ("CILIUM_FORWARD", "-", forward),
        ("CILIUM_INPUT", "-", [f"-m mark --mark {TO_PROXY} {_comment('cilium: ACCEPT for proxy traffic')} -j ACCEPT"]),
        ("CILIUM_OUTPUT", "-", output),
        ("KUBE-FIREWALL", "-", [kube_firewall]), ("KUBE-KUBELET-CANARY", "-", []),
    ]
    nat: Table = [
        ("PREROUTING", "ACCEPT", [_feeder("CILIUM_PRE_nat")]),
        ("INPUT", "ACCEPT", []),
        ("OUTPUT", "ACCEPT", [_feeder("CILIUM_OUTPUT_nat")]),
        ("POSTROUTING", "ACCEPT", [_feeder("CILIUM_POST_nat")]),
        ("CILIUM_OUTPUT_nat", "-", []), ("CILIUM_POST_nat", "-", post_nat), ("CILIUM_PRE_nat", "-", []),
        ("KUBE-KUBELET-CANARY", "-", []),
    ]
    return {"mangle": mangle, "raw": raw, "filter": filter_, "nat": nat}


# -- what iproute2/net-tools add to the lab's interfaces and routes ----------------------------
DHCP_LEASE = 86400  # VirtualBox NAT's DHCP lease; systemd-networkd renews at half of it
ALTNAMES = {"eth0": "enp0s3", "eth1": "enp0s8"}  # VirtualBox NICs at PCI slots 3 and 8


@dataclass(frozen=True)
class LinkInfo:
    noarp: bool = False  # cilium_host/cilium_net (the agent turns ARP off)
    qdisc: str = "noqueue"  # fq_codel on the NICs, noqueue on veths
    altname: str = ""
    peer_name: str = ""  # "cilium_host" for cilium_net@cilium_host (peer in the same namespace)
    netns: str = ""  # "cni-…" for a pod's lxc (the netns containerd named), "" for an nsid
    netnsid: int = 0
    dhcp: bool = False  # eth0: address and routes from systemd-networkd's DHCP client
    link_local: str = ""  # fe80::…/64 (EUI-64 from the MAC)


def eui64_link_local(mac: str) -> str:
    b = [int(x, 16) for x in mac.split(":")]
    words = [(b[0] ^ 2) << 8 | b[1], b[2] << 8 | 0xFF, 0xFE << 8 | b[3], b[4] << 8 | b[5]]
    return "fe80::" + ":".join(f"{w:x}" for w in words) + "/64"


def cni_netns(namespace: str, pod: str) -> str:
    """containerd's name for a pod's network namespace (/var/run/netns/cni-<uuid>)."""
    import uuid

    return "cni-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"netns/{namespace}/{pod}"))


def link_info(lab, node: str, name: str, mac: str) -> LinkInfo:
    if name == "lo":
        return LinkInfo()
    local = eui64_link_local(mac)
    if name in ALTNAMES:
        return LinkInfo(qdisc="fq_codel", altname=ALTNAMES[name], dhcp=name == "eth0", link_local=local)
    if name in ("cilium_host", "cilium_net"):
        peer = "cilium_net" if name == "cilium_host" else "cilium_host"
        return LinkInfo(noarp=True, peer_name=peer, link_local=local)
    for ep in lab.fabric.endpoints.values():
        if ep.node == node and ep.ifname == name:
            if ep.kind == "pod" and ep.pod_name:
                return LinkInfo(netns=cni_netns(ep.namespace, ep.pod_name), link_local=local)
            return LinkInfo(netnsid=0, link_local=local)  # cilium-health's netns has no name
    return LinkInfo(link_local=local)


def _net(cidr: str) -> tuple[int, int]:
    addr, _, plen = cidr.partition("/")
    parts = [int(p) for p in addr.split(".")]
    return (parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]), int(plen or 32)


def ip_routes(lab, node: str, routes) -> list[str]:
    """`ip route` lines of the node's main table, in the kernel's (FIB trie) order.

    `routes` are the lab's routes for the node; DHCP ones (eth0) gain ``proto dhcp``/``metric 100``
    and the gateway and DNS-server host routes systemd-networkd adds, Cilium's ones ``proto kernel``
    (its route reconciler uses RTPROT_KERNEL) and, with `enable-endpoint-routes`, one per local pod."""
    cfg = cilium_config(lab)
    agent = lab.cilium.nodes[node]
    out: list[tuple[tuple[int, int], str]] = []
    for r in routes:
        if r.destination == "default":
            key = (0, 0)
            dev_dhcp = r.device == "eth0"
            line = f"default via {r.gateway} dev {r.device}"
            if dev_dhcp:
                line += f" proto dhcp src {r.source} metric 100"
                out += [((_net(h)[0], 32), f"{h} dev eth0 proto dhcp scope link src {r.source} metric 100")
                        for h in (r.gateway, _dns_server(r.gateway))]
            out.append((key, line))
            continue
        key = _net(r.destination)
        line = r.destination
        if r.gateway:
            line += f" via {r.gateway}"
        line += f" dev {r.device} proto kernel"
        if r.scope:
            line += f" scope {r.scope}"
        if r.source:
            line += f" src {r.source}"
        if r.device == "eth0":
            line += " metric 100"
        out.append((key, line))
        if r.device == "cilium_host" and r.destination == agent.pod_cidr and r.source == agent.router_ip:
            out.append(((_net(agent.router_ip)[0], 32), f"{agent.router_ip} dev cilium_host proto kernel scope link"))
    if cfg.get("enable-endpoint-routes") == "true":
        for ep in lab.fabric.endpoints.values():
            if ep.node == node and ep.ifname and ep.ip and ":" not in ep.ip:
                out.append(((_net(ep.ip)[0], 32), f"{ep.ip} dev {ep.ifname} proto kernel scope link"))
    # one entry per (prefix, length): the trie dumps by address, shorter prefixes of a key first
    seen: dict[tuple[int, int], str] = {}
    for key, line in out:
        seen.setdefault(key, line)
    return [seen[k] for k in sorted(seen)]


def _dns_server(gateway: str) -> str:
    """VirtualBox NAT's DNS proxy: the gateway's network, host .3."""
    return gateway.rsplit(".", 1)[0] + ".3"
