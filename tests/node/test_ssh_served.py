"""`ciliumlab ssh NODE -- CMD` against a served lab: kubectl exec in the node's agent pod."""

from __future__ import annotations

from tests.served.conftest import needs_kubectl, served  # noqa: F401
from tests.served.served import ciliumlab

pytestmark = needs_kubectl


def ssh(served, *args):  # noqa: F811
    return ciliumlab("ssh", "--state-dir", str(served.state), *args)


def test_ssh_runs_on_the_node(served):  # noqa: F811
    res = ssh(served, "k8s-w1", "--", "cat /var/lib/kubelet/kubeadm-flags.env; hostname")
    assert res.rc == 0, res.err
    assert "--node-ip=192.168.10.101" in res.out
    assert res.out.endswith("k8s-w1\n")
    res = ssh(served, "k8s-ctr", "--", "ss", "-tnlp")
    assert res.rc == 0, res.err
    assert ":6443 " in res.out
    res = ssh(served, "k8s-w2", "--", "ip", "-4", "addr", "show", "eth1")
    assert "inet 192.168.10.102/24" in res.out


def test_ssh_exit_code_and_unknown_node(served):  # noqa: F811
    res = ssh(served, "k8s-w2", "--", "exit 3")
    assert res.rc == 3
    res = ssh(served, "k8s-w9", "--", "hostname")
    assert res.rc == 255


def test_ssh_has_the_nodes_tools_not_the_agent_images(served):  # noqa: F811
    """The node's Ubuntu (curl, dig …) through nsenter from the privileged agent pod, as on a real node."""
    res = ssh(served, "k8s-w1", "--", "curl -s localhost:9962/metrics | grep -c '^cilium_version'")
    assert res.rc == 0, res.err
    assert res.out.strip() == "1"
