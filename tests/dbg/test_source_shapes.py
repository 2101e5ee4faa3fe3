"""cilium-dbg tables checked against cilium/cilium's cilium-dbg/cmd sources (TablePrinter,
bpf_lb_list.go, bpf_policy_get.go, identity_list.go, bpf_fs_show.go): exact headers, cells
and the trailing padding Go's tabwriter gives tab-terminated cells."""

from __future__ import annotations

import re

from tests.dbg.conftest import L3_L4, dbg


def _node_of(lab, pod: str) -> str:
    return lab.get("pod", pod)["spec"]["nodeName"]


def test_bpf_lb_list_revnat_keeps_the_backend_title_and_pads_values(sw_lab):
    svc = sw_lab.get("svc", "deathstar")
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg bpf lb list --revnat").stdout
    lines = out.splitlines()
    # bpf_lb_list.go only swaps the first title for --revnat; the header's last cell is not padded
    assert lines[0] == "ID   BACKEND ADDRESS (REVNAT_ID) (SLOT)"
    width = max(len(r.split()[1]) for r in lines[1:]) + 3
    for row in lines[1:]:
        ident, addr = row.split()
        # TablePrinter rows are `%s\t%s\t\n`: the value cell is padded to the column width
        assert row == f"{ident:<5}{addr:<{width}}"
    lb = dbg(sw_lab, "k8s-w1", "cilium-dbg bpf lb list").stdout
    m = re.search(rf"^{re.escape(svc['spec']['clusterIP'])}:80/TCP \(0\) +0\.0\.0\.0:0 \((\d+)\) \(0\)", lb, re.M)
    assert m
    # RevNat4Value.String() is net.JoinHostPort(addr, port): no protocol
    assert re.search(rf"^{m.group(1)} +{re.escape(svc['spec']['clusterIP'])}:80 +$", out, re.M)


def test_bpf_lb_list_rows_are_keyed_per_slot(sw_lab):
    svc = sw_lab.get("svc", "deathstar")
    cip = re.escape(svc["spec"]["clusterIP"])
    lb = dbg(sw_lab, "k8s-w1", "cilium-dbg bpf lb list").stdout
    header, *rows = lb.splitlines()
    assert header.split("   ")[0].rstrip() == "SERVICE ADDRESS"
    assert header.endswith("BACKEND ADDRESS (REVNAT_ID) (SLOT)")
    mine = [r for r in rows if re.match(rf"{cip}:80/TCP \(", r)]
    assert [r.split()[1] for r in mine] == ["(0)", "(1)", "(2)"]
    # master entry: `%s:%d (%d) (%d) [%s] %s` with an empty L7LB suffix
    assert re.fullmatch(r".*\[ClusterIP, non-routable\] +", mine[0])
    assert all(r.endswith(" ") for r in rows)


def test_bpf_policy_get_port_proto_and_order(sw_lab):
    sw_lab.apply(L3_L4)
    ds = sw_lab.list("pod", "default", "class=deathstar")[0]
    node = ds["spec"]["nodeName"]
    eid = sw_lab.get("cep", ds["metadata"]["name"])["status"]["id"]
    tie = sw_lab.get("cep", "tiefighter")["status"]["identity"]["id"]
    table = dbg(sw_lab, node, f"cilium-dbg bpf policy get -n {eid}").stdout
    rows = [re.split(r"\s{2,}", r.strip()) for r in table.splitlines()[1:]]
    assert ["Allow", "Ingress", str(tie), "80/TCP", "NONE", "disabled", "0", "0", "24", "0"] in rows
    assert ["Allow", "Egress", "0", "ANY", "NONE", "disabled", "0", "0", "0", "0"] in rows
    # PolicyEntriesDump.Less: direction, then identity
    keys = [(r[1] != "Ingress", int(r[2])) for r in rows]
    assert keys == sorted(keys)
    named = dbg(sw_lab, node, f"cilium-dbg bpf policy get {eid}").stdout.splitlines()
    assert named[0].split("   ")[2].strip() == "LABELS (source:key[=value])"
    egress = next(r for r in named if r.startswith("Allow    Egress"))
    assert egress.split()[2:4] == ["ANY", "ANY"]  # identity 0 is shown as ANY
    r = dbg(sw_lab, node, "cilium-dbg bpf policy get")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: Missing endpoint id argument\n\nGet contents of a policy BPF map\n")


def test_bpf_policy_get_all_lists_each_endpoint_map(sw_lab):
    node = _node_of(sw_lab, "tiefighter")
    out = dbg(sw_lab, node, "cilium-dbg bpf policy get --all -n").stdout
    blocks = re.findall(r"^Endpoint ID: (\d+)\nPath: (\S+)\n\nPOLICY ", out, re.M)
    assert blocks and all(p == f"/sys/fs/bpf/tc/globals/cilium_policy_v2_{int(e):05d}" for e, p in blocks)
    assert [int(e) for e, _ in blocks] == sorted(int(e) for e, _ in blocks)
    assert out.endswith("\n\n\n")


def test_identity_list_endpoints_refcount_cell_is_tab_terminated(sw_lab):
    node = _node_of(sw_lab, "tiefighter")
    lines = dbg(sw_lab, node, "cilium-dbg identity list --endpoints").stdout.splitlines()
    assert lines[0].split() == ["ID", "LABELS", "REFCOUNT"]
    col = lines[0].index("REFCOUNT")
    host = next(r for r in lines if r.startswith("1 "))
    # `%d\t%s\t%d\t\n`: REFCOUNT is padded to max(len+3, minwidth 5)
    assert host[col:] == "1    "
    assert host.split() == ["1", "reserved:host", "1"]
    tie = sw_lab.get("cep", "tiefighter")["status"]["identity"]["id"]
    i = next(n for n, r in enumerate(lines) if r.startswith(f"{tie} "))
    assert lines[i + 1].startswith(" " * lines[0].index("LABELS") + "k8s:")
    assert len(lines[i + 1]) == col  # continuation `\t%s\t\n`: the label cell is padded, nothing after


def test_bpf_fs_show_uses_tabwriter_minwidth_two(sw_lab):
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg bpf fs show").stdout
    assert out.splitlines() == [
        "MountID:          1017", "ParentID:         1006", "Mounted State:    true",
        "MountPoint:       /sys/fs/bpf", "MountOptions:     rw,relatime", "OptionFields:     [master:11]",
        "FilesystemType:   bpf", "MountSource:      bpf", "SuperOptions:     rw,mode=700"]
