"""A node's own shell (`Lab.node_exec`, `ciliumlab ssh`): what the seed's Vagrant nodes show."""

from __future__ import annotations

import re

from tests.node.conftest import run
from tests.served.served import ciliumlab


def test_hostname_and_hosts_file_list_every_node(lab):
    assert run(lab, "k8s-w2", "hostname") == "k8s-w2\n"
    hosts = run(lab, "k8s-w1", "cat /etc/hosts")
    for line in ("192.168.10.100 k8s-ctr", "192.168.10.101 k8s-w1", "192.168.10.102 k8s-w2"):
        assert line in hosts.splitlines()
    assert hosts.startswith("127.0.0.1 localhost\n")


def test_kubeadm_flags_carry_the_node_ip(lab):
    for node, ip in (("k8s-ctr", "192.168.10.100"), ("k8s-w1", "192.168.10.101")):
        assert run(lab, node, "cat /var/lib/kubelet/kubeadm-flags.env") == (
            'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
            f'--node-ip={ip} --pod-infra-container-image=registry.k8s.io/pause:3.10"\n')


def test_pod_hosts_file_is_unchanged(lab):
    r = lab.exec("web", "cat /etc/hosts")
    assert "# Kubernetes-managed hosts file." in r.stdout
    assert "k8s-ctr" not in r.stdout


def test_ifconfig_net_tools_layout(lab):
    out = run(lab, "k8s-w1", "ifconfig | grep -iEA1 'eth[0-9]:'")
    assert out.splitlines() == [
        "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
        "        inet 10.0.2.15  netmask 255.255.255.0  broadcast 10.0.2.255",
        "--",
        "eth1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
        "        inet 192.168.10.101  netmask 255.255.255.0  broadcast 192.168.10.255",
    ]
    lo = run(lab, "k8s-w1", "ifconfig lo")
    assert lo.startswith("lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 127.0.0.1  netmask 255.0.0.0\n")


def test_ip_addr_has_cilium_devices_and_one_lxc_per_local_endpoint(lab):
    out = run(lab, "k8s-w1", "ip -c addr")
    assert "\x1b[36meth0: \x1b[0m" in out  # -c is -color=always: escapes even into a pipe
    names = re.findall(r"^\d+: ([^:@]+)", re.sub(r"\x1b\[\d+m", "", out), re.M)
    assert names[:5] == ["lo", "eth0", "eth1", "cilium_net", "cilium_host"]
    assert "lxc_health" in names
    # native routing (the seed's config): no VXLAN device
    assert "cilium_vxlan" not in names
    web = lab.get("pod", "web")
    ep = lab.fabric.endpoints[web["status"]["podIP"]]
    assert ep.ifname in names
    other = run(lab, "k8s-w2", "ip addr")
    assert ep.ifname not in other


def test_ip_route_native_routing_reaches_other_nodes_over_eth1(lab):
    out = run(lab, "k8s-w1", "ip route")
    assert "172.20.2.0/24 via 192.168.10.102 dev eth1" in out
    assert "172.20.0.0/24 via 192.168.10.100 dev eth1" in out
    assert out.startswith("default via 10.0.2.2 dev eth0")


def test_iptables_has_no_kube_proxy_chains(lab):
    save = run(lab, "k8s-w1", "iptables-save")
    assert "KUBE-SERVICES" not in save and "KUBE-SVC-" not in save and "KUBE-POSTROUTING" not in save
    assert [line for line in save.splitlines() if line.startswith("*")] == ["*mangle", "*raw", "*filter", "*nat"]
    assert save.count("COMMIT") == 4
    # BPF masquerading: no iptables MASQUERADE rule
    assert "MASQUERADE" not in save
    nat = run(lab, "k8s-w1", "iptables -t nat -S").splitlines()
    assert nat[:4] == ["-P PREROUTING ACCEPT", "-P INPUT ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT"]
    assert '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat' in nat
    filt = run(lab, "k8s-w1", "iptables -t filter -S").splitlines()
    assert "-N CILIUM_FORWARD" in filt and "-P FORWARD ACCEPT" in filt
    mangle = run(lab, "k8s-w1", "iptables -t mangle -S").splitlines()
    assert "-N CILIUM_PRE_mangle" in mangle
    r = lab.node_exec("k8s-w1", "iptables -t nope -S")
    assert r.exit_code == 3 and "table 'nope' does not exist" in r.stderr


def _listen_ports(out: str) -> set[int]:
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines()[1:]}


def test_ss_lists_node_listeners(lab):
    ctr = run(lab, "k8s-ctr", "ss -tnlp")
    assert ctr.splitlines()[0].split() == ["State", "Recv-Q", "Send-Q", "Local", "Address:Port", "Peer",
                                           "Address:PortProcess"]
    ports = _listen_ports(ctr)
    assert {22, 4240, 4244, 9962, 9965, 9963, 6443, 2379, 2380, 10250, 10257, 10259} <= ports
    w1 = _listen_ports(run(lab, "k8s-w1", "ss -tnlp"))
    assert {22, 4240, 4244, 9962, 10250} <= w1
    assert not {6443, 2379, 9963, 10257, 10259} & w1
    assert 'users:(("kube-apiserver",' in ctr


def test_pod_namespace_sees_no_node_listeners(lab):
    r = lab.exec("web", "ss -tnlp")
    # nginx has no ss; only the node profile ships it
    assert r.exit_code != 0


def test_ssh_cli_without_served_lab(tmp_path):
    res = ciliumlab("ssh", "--state-dir", str(tmp_path / "none"), "k8s-w1", "--", "cat",
                    "/var/lib/kubelet/kubeadm-flags.env")
    assert res.rc == 0, res.err
    assert "--node-ip=192.168.10.101" in res.out
    res = ciliumlab("ssh", "--state-dir", str(tmp_path / "none"), "k8s-w9", "--", "hostname")
    assert res.rc == 255
    assert "Could not resolve hostname k8s-w9" in res.err
    res = ciliumlab("ssh", "--state-dir", str(tmp_path / "none"), "k8s-w2", "--", "sh", "-c", "exit 7")
    assert res.rc == 7


def test_busybox_ifconfig_uses_busybox_layout(lab):
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: bb}
spec:
  nodeName: k8s-w2
  containers: [{name: bb, image: busybox, command: [sleep, "3600"]}]
""")
    ip = lab.get("pod", "bb")["status"]["podIP"]
    out = lab.exec("bb", "ifconfig eth0").stdout.splitlines()
    assert out[0].startswith("eth0      Link encap:Ethernet  HWaddr ")
    assert out[1] == f"          inet addr:{ip}  Mask:255.255.255.255"
    assert out[2] == "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1"
    r = lab.exec("bb", "ifconfig eth9")
    assert (r.exit_code, r.stderr) == (1, "eth9: error fetching interface information: Device not found\n")
