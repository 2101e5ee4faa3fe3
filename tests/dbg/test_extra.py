"""More cilium-dbg families: config, bpf nat/fs, policy selectors, map, metrics, cgroups,
statedb, and Fatalf's `Error: ` wording (cilium-dbg/cmd: `Fatalf` prints `Error: %s\\n`)."""

from __future__ import annotations

import json
import re

from tests.dbg.conftest import L3_L4, dbg


def _node_of(lab, pod: str) -> str:
    return lab.get("pod", pod)["spec"]["nodeName"]


def test_unknown_endpoint_uses_fatalf_wording(sw_lab):
    r = dbg(sw_lab, "k8s-w1", "cilium-dbg endpoint get 123")
    assert r.exit_code == 1
    assert r.stdout == ""
    # Fatalf("Cannot get endpoint %s: %s\n", id, err): go-swagger's error text has a trailing space
    assert r.stderr == "Error: Cannot get endpoint 123: [GET /endpoint/{id}][404] getEndpointIdNotFound \n\n"
    r = dbg(sw_lab, "k8s-w1", "cilium-dbg identity get 99999")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: Cannot get identity for given ID 99999: ")


def test_config_read_write_options(sw_lab):
    r = dbg(sw_lab, "k8s-w1", "cilium-dbg config")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "##### Read-write configurations #####"
    assert "DropNotification                  : Enabled" in lines
    assert "PolicyAuditMode                   : Disabled" in lines
    assert lines[-2:] == ["MonitorNumPages                   : 64", "PolicyEnforcement                 : default"]
    assert "Read-only" not in r.stdout


def test_config_all_lists_read_only_daemon_config_first(sw_lab):
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg config -a").stdout
    ro, rw = out.split("##### Read-write configurations #####\n")
    assert ro.startswith("##### Read-only configurations #####\n")
    keys = [line.split(":")[0].rstrip() for line in ro.splitlines()[1:]]
    assert "EnableBPFMasquerade" in keys and "EnableIPv4" in keys
    assert "EnableBPFMasquerade               : true" in ro
    assert ro.endswith("k8s-configuration                 : \nk8s-endpoint                      : \n")
    assert rw.startswith("ConntrackAccounting")


def test_config_follows_audit_mode(sw_lab):
    cm = sw_lab.get("configmap", "cilium-config", "kube-system")
    cm["data"]["policy-audit-mode"] = "true"
    sw_lab.apply([cm])
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg config").stdout
    assert "PolicyAuditMode                   : Enabled" in out.splitlines()


def test_bpf_nat_list_shows_masqueraded_world_traffic(sw_lab):
    # fmt.Println(dump) per map: an empty IPv4 map still prints one empty line
    assert dbg(sw_lab, _node_of(sw_lab, "tiefighter"), "cilium-dbg bpf nat list").stdout == "\n"
    r = sw_lab.exec("tiefighter", "curl -s -o /dev/null -w '%{http_code}' http://example.com/")
    assert r.stdout == "200"
    pod_ip = sw_lab.get("pod", "tiefighter")["status"]["podIP"]
    out = dbg(sw_lab, _node_of(sw_lab, "tiefighter"), "cilium-dbg bpf nat list").stdout
    assert out.endswith("\n\n")
    lines = out.splitlines()[:-1]
    assert len(lines) == 2
    m = re.fullmatch(rf"TCP OUT {re.escape(pod_ip)}:(\d+) -> ([\d.]+):80 XLATE_SRC 10\.0\.2\.15:(\d+) "
                     r"Created=\d+sec ago NeedsCT=1", lines[0])
    assert m, lines[0]
    port, world = m.group(1), m.group(2)
    assert lines[1] == (f"TCP IN {world}:80 -> 10.0.2.15:{m.group(3)} XLATE_DST {pod_ip}:{port} "
                        f"Created={lines[0].split('Created=')[1].split('sec')[0]}sec ago NeedsCT=1")
    # cluster-internal traffic is not masqueraded
    sw_lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    assert len(dbg(sw_lab, _node_of(sw_lab, "tiefighter"), "cilium-dbg bpf nat list").stdout.splitlines()) == 3


def test_bpf_fs_show(sw_lab):
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg bpf fs show").stdout
    assert "MountPoint:       /sys/fs/bpf\n" in out
    assert "FilesystemType:   bpf\n" in out


def test_policy_selectors_map_selectors_to_identities(sw_lab):
    assert dbg(sw_lab, "k8s-w1", "cilium-dbg policy selectors").stdout.splitlines()[1:] == []
    sw_lab.apply(L3_L4)
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg policy selectors").stdout
    header, *rows = out.splitlines()
    assert header.split() == ["SELECTOR", "LABELS", "USERS", "IDENTITIES"]
    deathstar = sw_lab.get("ciliumendpoint", sw_lab.list("pod", "default", "class=deathstar")[0]["metadata"]["name"],
                           "default")["status"]["identity"]["id"]
    empire = sw_lab.get("ciliumendpoint", "tiefighter", "default")["status"]["identity"]["id"]
    # peer selectors only; LABELS is namespace/name of the policies using the selector
    sel = "&LabelSelector{MatchLabels:map[string]string{any.org: empire,k8s.io.kubernetes.pod.namespace: default,}," \
          "MatchExpressions:[]LabelSelectorRequirement{},}"
    assert rows[0].startswith(sel + "   ")
    assert rows[0][len(sel):].split() == ["default/rule1", "1", str(min(deathstar, empire))]
    assert rows[1].strip() == str(max(deathstar, empire))
    assert len(rows) == 2
    # the rule's subject is listed by `policy subject-selectors`
    subj = dbg(sw_lab, "k8s-w1", "cilium-dbg policy subject-selectors").stdout.splitlines()
    row = next(r for r in subj[1:] if "any.class: deathstar" in r)
    assert row.split()[-3:] == ["default/rule1", "1", str(deathstar)]


def test_map_list_counts_live_entries(sw_lab):
    node = _node_of(sw_lab, "tiefighter")
    out = dbg(sw_lab, node, "cilium-dbg map list").stdout
    header, *rows = out.splitlines()
    assert header.split() == ["Name", "Num", "entries", "Num", "errors", "Cache", "enabled"]
    table = {r.split()[0]: r.split()[1:] for r in rows}
    ep_id = sw_lab.get("ciliumendpoint", "tiefighter", "default")["status"]["id"]
    assert table[f"cilium_policy_v2_{ep_id:05d}"][1:] == ["0", "true"]
    # `Num entries` counts the agent's userspace cache: conntrack maps have none
    assert table["cilium_ct4_global"] == ["0", "0", "false"]
    sw_lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    after = {r.split()[0]: r.split()[1:] for r in dbg(sw_lab, node, "cilium-dbg map list").stdout.splitlines()[1:]}
    assert after["cilium_ct4_global"] == ["0", "0", "false"]
    verbose = dbg(sw_lab, node, "cilium-dbg map list --verbose").stdout
    assert verbose.startswith("## Map: ")
    assert "## Map: cilium_ct4_global\nCache is disabled\n\n\n" in verbose
    assert "## Map: cilium_snat_v4_external\nCache is empty\n\n\n" in verbose
    r = dbg(sw_lab, node, "cilium-dbg map list -v")
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown shorthand flag: 'v' in -v\n")
    r = dbg(sw_lab, node, "cilium-dbg map events cilium_nope")
    assert r.exit_code == 1
    assert r.stderr == ("Error: could not get map name events: [GET /map/{name}/events][404] "
                        "getMapNameEventsNotFound \n")
    # without bpf-map-event-buffers no map keeps events: same 404
    r = dbg(sw_lab, node, "cilium-dbg map events cilium_lxc")
    assert r.exit_code == 1 and "getMapNameEventsNotFound" in r.stderr
    r = dbg(sw_lab, node, "cilium-dbg map events")
    assert (r.exit_code, r.stderr) == (1, "Error: map name must be specified\n")


def test_metrics_list_sorted_with_label_pairs(sw_lab):
    out = dbg(sw_lab, "k8s-w1", "cilium-dbg metrics list").stdout
    header, *rows = out.splitlines()
    assert header.split() == ["Metric", "Labels", "Value"]
    assert rows == sorted(rows)
    eps = dbg(sw_lab, "k8s-w1", "cilium-dbg endpoint list --no-headers").stdout
    n_eps = len([line for line in eps.splitlines() if line[:1].isdigit()])
    line = next(r for r in rows if r.startswith("cilium_endpoint_state ") and "=ready " in r)
    assert line.split() == ["cilium_endpoint_state", "endpoint_state=ready", f"{n_eps}.000000"]
    only = dbg(sw_lab, "k8s-w1", "cilium-dbg metrics list -p '^cilium_policy$'").stdout.splitlines()
    assert [r.split()[0] for r in only[1:]] == ["cilium_policy"]
    # the same numbers the agent's :9962 endpoint serves
    drops = dbg(sw_lab, "k8s-w1", "cilium-dbg metrics list -p drop_count").stdout.splitlines()[1:]
    assert all(r.startswith("cilium_drop_count_total ") for r in drops)


def test_cgroups_list_has_local_pods(sw_lab):
    node = _node_of(sw_lab, "tiefighter")
    out = dbg(sw_lab, node, "cilium-dbg cgroups list").stdout
    lines = out.splitlines()
    # cgroups_list.go: every cell tab-terminated, so the last column is padded too
    assert re.fullmatch(r"POD NAME +POD NAMESPACE +CGROUP IDS +", lines[0])
    row = next(r for r in lines if r.startswith("tiefighter "))
    assert re.fullmatch(r"tiefighter +default +\d+ +", row)
    assert lines[0].index("CGROUP IDS") == row.index(row.split()[2])
    xwing_node = _node_of(sw_lab, "xwing")
    assert any(r.startswith("xwing ") for r in lines) == (xwing_node == node)
    bare = dbg(sw_lab, node, "cilium-dbg cgroups list --no-headers").stdout.splitlines()
    assert not bare[0].startswith("POD NAME") and any(r.startswith("tiefighter ") for r in bare)


def test_statedb_dump_is_json_of_node_tables(sw_lab):
    out = dbg(sw_lab, "k8s-w2", "cilium-dbg statedb dump").stdout
    tables = json.loads(out)
    assert {d["Name"] for d in tables["devices"]} >= {"eth0", "eth1", "cilium_host"}
    assert {a["Addr"] for a in tables["node-addresses"]} == {"192.168.10.102", "10.0.2.15"}
    assert any(r["Dst"] == "default" for r in tables["routes"])
