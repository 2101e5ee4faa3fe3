"""The real kubectl against the served lab: what it prints must be what a real cluster prints.

Expectations come from shared/spec/kubeapi (verified against kubectl 1.32 and a probe server)
and from kubectl's/Kubernetes' printers; cluster facts (IPs, identities) come from the lab's own
store, never from this server's output.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ciliumlab import Lab
from tests.apiserver.kube import KUBECTL, Kubectl, LabServer, table
from tests.conftest import shared_fixture

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

SW_APP = str(shared_fixture("cilium", "http-sw-app.yaml"))
L7_POLICY = str(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
L34_POLICY = str(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
MALFORMED = str(shared_fixture("cilium", "malformed_policy.yaml"))
WEBPOD = str(shared_fixture("seed", "webpod.yaml"))
TWO_DAYS = 2 * 86400


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab()
    lab.clock.advance(TWO_DAYS)  # the cluster was installed two days ago; what kubectl creates is 0s old
    return lab


@pytest.fixture(scope="module")
def server(lab: Lab):
    srv = LabServer(lab)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def kubectl(server: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(server, tmp_path_factory.mktemp("kubectl"))


@pytest.fixture(scope="module")
def sw_app(kubectl: Kubectl) -> str:
    """`kubectl apply -f http-sw-app.yaml` once for the module; its output."""
    return kubectl.ok("apply", "-f", SW_APP)


def pods_of(lab: Lab, prefix: str) -> list[dict]:
    with_lock = [p for p in lab.store.list("Pod", "default") if p["metadata"]["name"].startswith(prefix)]
    return sorted(with_lock, key=lambda p: p["metadata"]["name"])


# -- version, discovery -----------------------------------------------------------------------
def test_version_reports_1_32_without_skew_warning(kubectl: Kubectl) -> None:
    res = kubectl("version")
    assert res.rc == 0, res.err
    assert "Server Version: v1.32.4" in res.out
    assert "WARNING" not in res.out + res.err


def test_api_resources_lists_cilium_crds_with_short_names(kubectl: Kubectl) -> None:
    rows = {r[0]: r for r in table(kubectl.ok("api-resources"))}
    assert rows["ciliumnetworkpolicies"] == ["ciliumnetworkpolicies", "cnp,ciliumnp", "cilium.io/v2", "true",
                                             "CiliumNetworkPolicy"]
    assert rows["ciliumnodes"] == ["ciliumnodes", "cn,ciliumn", "cilium.io/v2", "false", "CiliumNode"]
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["customresourcedefinitions"][1:3] == ["crd,crds", "apiextensions.k8s.io/v1"]


# -- nodes, pods ------------------------------------------------------------------------------
def test_get_nodes_wide(kubectl: Kubectl) -> None:
    rows = table(kubectl.ok("get", "nodes", "-o", "wide"))
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                       "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert rows[1] == ["k8s-ctr", "Ready", "control-plane", "2d", "v1.33.2", "192.168.10.100", "<none>",
                       "Ubuntu 24.04.2 LTS", "6.8.0-53-generic", "containerd://1.7.27"]
    assert [r[:3] for r in rows[2:]] == [["k8s-w1", "Ready", "<none>"], ["k8s-w2", "Ready", "<none>"]]


def test_get_nodes_without_wide_hides_priority_columns(kubectl: Kubectl) -> None:
    rows = table(kubectl.ok("get", "nodes"))
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]


def test_get_pods_all_namespaces_wide(kubectl: Kubectl, lab: Lab) -> None:
    rows = table(kubectl.ok("get", "pod", "-A", "-o", "wide"))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                       "READINESS GATES"]
    body = rows[1:]
    assert body == sorted(body, key=lambda r: (r[0], r[1]))
    cilium = [r for r in body if re.fullmatch(r"cilium-[a-z0-9]{5}", r[1])]
    assert sorted((r[6], r[7]) for r in cilium) == [("192.168.10.100", "k8s-ctr"), ("192.168.10.101", "k8s-w1"),
                                                    ("192.168.10.102", "k8s-w2")]
    assert all(r[0] == "kube-system" and r[2:6] == ["1/1", "Running", "0", "2d"] and r[8:] == ["<none>", "<none>"]
               for r in cilium)
    coredns = lab.list("pods", "kube-system", "k8s-app=kube-dns")[0]
    row = next(r for r in body if r[1] == coredns["metadata"]["name"])
    assert row[6:8] == [coredns["status"]["podIP"], coredns["spec"]["nodeName"]]


def test_field_and_label_selectors(kubectl: Kubectl, lab: Lab) -> None:
    name = kubectl.ok("get", "pods", "-l", "k8s-app=cilium", "-n", "kube-system", "--field-selector",
                      "spec.nodeName=k8s-w1", "-o", "jsonpath={.items[0].metadata.name}")
    agent = [p for p in lab.list("pods", "kube-system", "k8s-app=cilium") if p["spec"]["nodeName"] == "k8s-w1"]
    assert name == agent[0]["metadata"]["name"]
    res = kubectl("get", "pods", "--field-selector", "spec.bogus=1")
    assert res.rc == 1
    assert "field label not supported: spec.bogus" in res.err


def test_nodes_jsonpath_pod_cidr(kubectl: Kubectl) -> None:
    out = kubectl.ok("get", "nodes", "-o", r'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.spec.podCIDR}{"\n"}{end}')
    assert out == "k8s-ctr\t10.244.0.0/24\nk8s-w1\t10.244.1.0/24\nk8s-w2\t10.244.2.0/24\n"


def test_ciliumnode_json_has_pod_cidrs(kubectl: Kubectl, lab: Lab) -> None:
    out = kubectl.ok("get", "ciliumnode", "-o", "json")
    lines = out.splitlines()
    hits = [i for i, line in enumerate(lines) if '"podCIDRs": [' in line]
    assert len(hits) == 3
    cidrs = [lines[i + 1].strip().strip('",') for i in hits]
    assert cidrs == [cn["spec"]["ipam"]["podCIDRs"][0] for cn in lab.list("ciliumnodes")]


def test_cluster_info(kubectl: Kubectl, server: LabServer) -> None:
    assert kubectl.ok("cluster-info") == (
        f"Kubernetes control plane is running at {server.url}\n"
        f"CoreDNS is running at {server.url}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n\n"
        "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")


def test_describe_kubeadm_config(kubectl: Kubectl) -> None:
    out = kubectl.ok("describe", "cm", "-n", "kube-system", "kubeadm-config")
    assert out.startswith("Name:         kubeadm-config\nNamespace:    kube-system\n")
    assert "\nData\n====\nClusterConfiguration:\n----\n" in out
    assert "podSubnet: 10.244.0.0/16" in out


# -- apply ------------------------------------------------------------------------------------
def test_apply_creates_then_unchanged(kubectl: Kubectl, sw_app: str) -> None:
    assert sw_app == ("service/deathstar created\ndeployment.apps/deathstar created\n"
                      "pod/tiefighter created\npod/xwing created\n")
    assert kubectl.ok("apply", "-f", SW_APP) == ("service/deathstar unchanged\ndeployment.apps/deathstar unchanged\n"
                                                "pod/tiefighter unchanged\npod/xwing unchanged\n")


def test_apply_changed_manifest_is_configured(kubectl: Kubectl, sw_app: str, lab: Lab, tmp_path: Path) -> None:
    changed = tmp_path / "sw.yaml"
    changed.write_text(Path(SW_APP).read_text().replace("replicas: 2", "replicas: 3"))
    assert kubectl.ok("apply", "-f", str(changed)) == (
        "service/deathstar unchanged\ndeployment.apps/deathstar configured\npod/tiefighter unchanged\n"
        "pod/xwing unchanged\n")
    assert lab.store.get("Deployment", "default", "deathstar")["spec"]["replicas"] == 3
    assert len(pods_of(lab, "deathstar-")) == 3
    assert "deployment.apps/deathstar configured" in kubectl.ok("apply", "-f", SW_APP)
    assert len(pods_of(lab, "deathstar-")) == 2


def test_get_pod_show_labels(kubectl: Kubectl, sw_app: str) -> None:
    rows = {r[0]: r for r in table(kubectl.ok("get", "pod", "--show-labels"))}
    assert rows["NAME"] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"]
    assert rows["xwing"] == ["xwing", "1/1", "Running", "0", "0s", "app.kubernetes.io/name=xwing,class=xwing,org=alliance"]
    deathstars = [r for name, r in rows.items() if name.startswith("deathstar-")]
    assert len(deathstars) == 2
    assert all(re.fullmatch(r"app\.kubernetes\.io/name=deathstar,class=deathstar,org=empire,pod-template-hash=\w+",
                            r[5]) for r in deathstars)


def test_get_deploy_svc_ep(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    out = kubectl.ok("get", "deploy,svc,ep", "deathstar")
    blocks = [table(b) for b in out.strip().split("\n\n")]
    svc = lab.store.get("Service", "default", "deathstar")
    ips = {p["status"]["podIP"] for p in pods_of(lab, "deathstar-")}
    assert blocks[0] == [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                         ["deployment.apps/deathstar", "2/2", "2", "2", "0s"]]
    assert blocks[1] == [["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
                         ["service/deathstar", "ClusterIP", svc["spec"]["clusterIP"], "<none>", "80/TCP", "0s"]]
    assert blocks[2][0] == ["NAME", "ENDPOINTS", "AGE"]
    assert blocks[2][1][0] == "endpoints/deathstar" and blocks[2][1][2] == "0s"
    assert {e.removesuffix(":80") for e in blocks[2][1][1].split(",")} == ips


def test_get_deploy_wide(kubectl: Kubectl, sw_app: str) -> None:
    rows = table(kubectl.ok("get", "deploy", "deathstar", "-o", "wide"))
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert rows[1][5] == "deathstar"
    assert rows[1][7] == "class=deathstar,org=empire"


def test_endpointslices_by_label(kubectl: Kubectl, lab: Lab) -> None:
    assert kubectl.ok("apply", "-f", WEBPOD) in ("deployment.apps/webpod created\nservice/webpod created\n",
                                                 "deployment.apps/webpod unchanged\nservice/webpod unchanged\n")
    rows = table(kubectl.ok("get", "endpointslices", "-l", "app=webpod"))
    assert rows[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert len(rows) == 2
    name, family, ports, endpoints, age = rows[1]
    assert re.fullmatch(r"webpod-[a-z0-9]{5}", name) and (family, ports, age) == ("IPv4", "80", "0s")
    assert set(endpoints.split(",")) == {p["status"]["podIP"] for p in pods_of(lab, "webpod-")}


# -- Cilium resources -------------------------------------------------------------------------
def test_cilium_endpoints_all_namespaces(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    rows = table(kubectl.ok("get", "ciliumendpoints", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "SECURITY IDENTITY", "ENDPOINT STATE", "IPV4", "IPV6"]
    cep = lab.store.get("CiliumEndpoint", "default", "xwing")
    row = next(r for r in rows if r[:2] == ["default", "xwing"])
    assert row[2:] == [str(cep["status"]["identity"]["id"]), "ready", cep["status"]["networking"]["addressing"][0]["ipv4"]]
    wide = table(kubectl.ok("get", "cep", "xwing", "-o", "wide"))
    assert wide[0] == ["NAME", "SECURITY IDENTITY", "INGRESS ENFORCEMENT", "EGRESS ENFORCEMENT", "VISIBILITY POLICY",
                       "ENDPOINT STATE", "IPV4", "IPV6"]


def test_cilium_identities(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    rows = table(kubectl.ok("get", "ciliumidentities"))
    assert rows[0] == ["NAME", "NAMESPACE", "AGE"]
    expected = sorted((i["metadata"]["name"], i["metadata"]["labels"]["io.kubernetes.pod.namespace"])
                      for i in lab.list("ciliumidentities"))
    assert [tuple(r[:2]) for r in rows[1:]] == expected
    assert {r[2] for r in rows[1:]} <= {"0s", "2d"}


def test_get_crd_uses_created_at(kubectl: Kubectl) -> None:
    rows = table(kubectl.ok("get", "crd"))
    assert rows[0] == ["NAME", "CREATED AT"]
    assert ["ciliumnetworkpolicies.cilium.io", "2025-11-26T08:00:00Z"] in rows


def test_cnp_apply_get_describe(kubectl: Kubectl, sw_app: str) -> None:
    first = kubectl.ok("apply", "-f", L7_POLICY)
    assert first in ("ciliumnetworkpolicy.cilium.io/rule1 created\n", "ciliumnetworkpolicy.cilium.io/rule1 unchanged\n")
    assert kubectl.ok("apply", "-f", L7_POLICY) == "ciliumnetworkpolicy.cilium.io/rule1 unchanged\n"
    assert table(kubectl.ok("get", "cnp")) == [["NAME", "AGE", "VALID"], ["rule1", "0s", "True"]]
    out = kubectl.ok("describe", "cnp", "rule1")
    assert out.startswith("Name:         rule1\nNamespace:    default\nLabels:       <none>\n")
    assert "API Version:  cilium.io/v2\nKind:         CiliumNetworkPolicy\n" in out
    assert "          Method:  POST\n          Path:    /v1/request-landing\n" in out
    assert re.search(r"\nEvents:\s+<none>\n$", out)


def test_cnp_with_top_level_description_is_a_strict_decoding_error(kubectl: Kubectl) -> None:
    # The upstream example still carries `description` at the top level, which Cilium's CRD
    # schema does not declare: kubectl's default strict validation makes the apiserver refuse it.
    ns = "apply-strict"
    assert kubectl.ok("apply", "-f", "-", stdin=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n") \
        == f"namespace/{ns} created\n"
    res = kubectl("apply", "-n", ns, "-f", L34_POLICY)
    assert res.rc == 1
    assert res.err == (f'Error from server (BadRequest): error when creating "{L34_POLICY}": CiliumNetworkPolicy in '
                       'version "v2" cannot be handled as a CiliumNetworkPolicy: strict decoding error: unknown field '
                       '"description"\n')
    res = kubectl("apply", "-n", ns, "--validate=false", "-f", L34_POLICY)
    assert (res.rc, res.out) == (0, "ciliumnetworkpolicy.cilium.io/rule1 created\n")
    assert kubectl.ok("get", "cnp", "-n", ns, "rule1", "-o", "jsonpath={.spec.endpointSelector.matchLabels.org}") \
        == "empire"


def test_malformed_policy_rejected(kubectl: Kubectl) -> None:
    res = kubectl("apply", "-f", MALFORMED)
    assert res.rc == 1
    assert res.err == (f'Error from server (BadRequest): error when creating "{MALFORMED}": CiliumNetworkPolicy in '
                       'version "v2" cannot be handled as a CiliumNetworkPolicy: strict decoding error: unknown field '
                       '"description", unknown field "spec.egress.toCIDR", unknown field "spec.podSelector"\n')
    res = kubectl("apply", "--validate=false", "-f", MALFORMED)
    assert res.rc == 1
    assert res.err == ('The CiliumNetworkPolicy "badrule" is invalid: \n'
                       '* spec.egress: Invalid value: "object": spec.egress in body must be of type array: "object"\n'
                       '* spec: Invalid value: "object": spec in body must validate one and only one schema (oneOf). '
                       "Found none valid\n")
    assert kubectl("get", "cnp", "badrule").rc == 1


def test_strategic_merge_patch_on_a_cr_is_415(kubectl: Kubectl, sw_app: str) -> None:
    kubectl.ok("apply", "-f", L7_POLICY)
    res = kubectl("patch", "cnp", "rule1", "-p", '{"metadata":{"labels":{"a":"b"}}}')
    assert res.rc == 1
    assert res.err.startswith("error: application/strategic-merge-patch+json is not supported by cilium.io/v2, "
                              "Kind=CiliumNetworkPolicy: the body of the request was in an unknown format")


# -- rollout, scale, patch --------------------------------------------------------------------
def test_rollout_status_and_scale(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    assert kubectl.ok("rollout", "status", "deployment/deathstar") == 'deployment "deathstar" successfully rolled out\n'
    assert kubectl.ok("scale", "deployment", "deathstar", "--replicas=3") == "deployment.apps/deathstar scaled\n"
    assert table(kubectl.ok("get", "deploy", "deathstar"))[1][1] == "3/3"
    assert len(pods_of(lab, "deathstar-")) == 3
    assert kubectl.ok("scale", "deploy/deathstar", "--replicas=2") == "deployment.apps/deathstar scaled\n"
    assert kubectl.ok("rollout", "status", "ds/cilium", "-n", "kube-system") == \
        'daemon set "cilium" successfully rolled out\n'


def test_patch_merge_and_json(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    args = ("patch", "configmap", "-n", "kube-system", "cilium-config", "--type", "merge", "-p",
            '{"data":{"debug-verbose":"flow"}}')
    assert kubectl.ok(*args) == "configmap/cilium-config patched\n"
    assert kubectl.ok(*args) == "configmap/cilium-config patched (no change)\n"
    assert lab.store.get("ConfigMap", "kube-system", "cilium-config")["data"]["debug-verbose"] == "flow"
    out = kubectl.ok("patch", "deploy", "deathstar", "--type", "json", "-p",
                     '[{"op":"add","path":"/metadata/labels/tier","value":"backend"}]')
    assert out == "deployment.apps/deathstar patched\n"
    assert kubectl.ok("get", "deploy", "deathstar", "-o", "jsonpath={.metadata.labels.tier}") == "backend"
    out = kubectl.ok("patch", "deploy", "deathstar", "-p",
                     '{"spec":{"template":{"spec":{"containers":[{"name":"deathstar","env":[{"name":"A","value":"1"}]}]}}}}')
    assert out == "deployment.apps/deathstar patched\n"
    container = lab.store.get("Deployment", "default", "deathstar")["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}] and container["image"].startswith("quay.io/cilium/starwars")


# -- watch ------------------------------------------------------------------------------------
def test_get_watch_streams_table_events(kubectl: Kubectl, sw_app: str) -> None:
    watcher = kubectl.popen("get", "pods", "-w", "--output-watch-events")
    try:
        time.sleep(1.0)
        assert kubectl.ok("run", "watched", "--image=nginx") == "pod/watched created\n"
        assert kubectl.ok("delete", "pod", "watched") == 'pod "watched" deleted\n'
        time.sleep(0.5)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    rows = table(out)
    assert rows[0] == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    events = [(r[0], r[3]) for r in rows if r[1] == "watched"]
    assert events[0] == ("ADDED", "Pending")
    assert ("MODIFIED", "Running") in events
    assert events[-1][0] == "DELETED"


def test_wait_for_condition(kubectl: Kubectl, sw_app: str) -> None:
    assert kubectl.ok("wait", "--for=condition=Ready", "pod/xwing", "--timeout=10s") == "pod/xwing condition met\n"


# -- errors -----------------------------------------------------------------------------------
def test_not_found(kubectl: Kubectl) -> None:
    res = kubectl("get", "pod", "nope")
    assert (res.rc, res.err) == (1, 'Error from server (NotFound): pods "nope" not found\n')
    res = kubectl("get", "cnp", "nope")
    assert res.err == 'Error from server (NotFound): ciliumnetworkpolicies.cilium.io "nope" not found\n'


def test_invalid_pod_is_422_with_causes(kubectl: Kubectl) -> None:
    res = kubectl("apply", "-f", "-", stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: badpod}\nspec: {}\n")
    assert (res.rc, res.err) == (1, 'The Pod "badpod" is invalid: spec.containers: Required value\n')


def test_unknown_field_strict_warn_ignore(kubectl: Kubectl, lab: Lab) -> None:
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unk}\ndata: {a: b}\nbogus: 1\n")
    res = kubectl("create", "-f", "-", stdin=manifest)
    assert (res.rc, res.err) == (1, 'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version '
                                    '"v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"\n')
    res = kubectl("create", "--validate=warn", "-f", "-", stdin=manifest)
    assert (res.rc, res.out, res.err) == (0, "configmap/unk created\n", 'Warning: unknown field "bogus"\n')
    assert "bogus" not in lab.store.get("ConfigMap", "default", "unk")
    res = kubectl("create", "--validate=false", "-f", "-", stdin=manifest)
    assert (res.rc, res.err) == (1, 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "unk" '
                                    "already exists\n")
    assert kubectl.ok("delete", "cm", "unk") == 'configmap "unk" deleted\n'


# -- delete (last: it removes what the other tests use) ---------------------------------------
def test_zz_delete_cnp_and_manifest(kubectl: Kubectl, sw_app: str, lab: Lab) -> None:
    kubectl.ok("apply", "-f", L7_POLICY)
    assert kubectl.ok("delete", "cnp", "rule1") == 'ciliumnetworkpolicy.cilium.io "rule1" deleted\n'
    assert lab.store.get("CiliumNetworkPolicy", "default", "rule1") is None
    res = kubectl("delete", "-f", SW_APP)
    assert res.rc == 0, res.err
    assert res.out == ('service "deathstar" deleted\ndeployment.apps "deathstar" deleted\npod "tiefighter" deleted\n'
                       'pod "xwing" deleted\n')
    assert pods_of(lab, "deathstar-") == [] and lab.store.get("Pod", "default", "xwing") is None
    res = kubectl("delete", "-f", L7_POLICY)
    assert (res.rc, res.err) == (1, f'Error from server (NotFound): error when deleting "{L7_POLICY}": '
                                    'ciliumnetworkpolicies.cilium.io "rule1" not found\n')


# -- auth -------------------------------------------------------------------------------------
def test_token_required(lab: Lab, tmp_path: Path) -> None:
    import json
    import urllib.error
    import urllib.request

    srv = LabServer(lab, token="s3cret")
    try:
        # kubectl only sends credentials over TLS, so on plain http it is always anonymous.
        res = Kubectl(srv, tmp_path)("get", "pods")
        assert res.rc == 1
        assert res.err.strip().endswith("error: You must be logged in to the server (the server has asked for the "
                                        "client to provide credentials)")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{srv.url}/api/v1/pods")
        assert err.value.code == 401
        assert json.loads(err.value.read()) == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                "status": "Failure", "message": "Unauthorized",
                                                "reason": "Unauthorized", "code": 401}
        req = urllib.request.Request(f"{srv.url}/api/v1/namespaces/default/pods",
                                     headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(req) as resp:
            assert json.loads(resp.read())["kind"] == "PodList"
        bad = urllib.request.Request(f"{srv.url}/version", headers={"Authorization": "Bearer wrong"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad)
        assert err.value.code == 401
    finally:
        srv.close()


def test_kubectl_attach_is_refused_until_served(kubectl: Kubectl, lab: Lab) -> None:
    # exec and port-forward are served (test_exec*.py, test_portforward.py); attach is not yet
    pod = lab.list("pods", "kube-system", "k8s-app=kube-dns")[0]["metadata"]["name"]
    res = kubectl("attach", "-n", "kube-system", pod, timeout=60)
    assert res.rc == 1
    assert res.err.endswith("Error from server (BadRequest): pods/attach is not served by this lab API server yet\n")

