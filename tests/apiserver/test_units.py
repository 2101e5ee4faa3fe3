"""The API server's pieces on their own: printing helpers, patches, pruning, watch history and
the wire details kubectl depends on (discovery Content-Type, OpenAPI index, watch replay)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import yaml

from ciliumlab import Lab
from ciliumlab.k8s.apiserver import CONTEXT
from ciliumlab.k8s.apiserver.errors import ApiError
from ciliumlab.k8s.apiserver.patch import json_patch, merge_patch, strategic_merge
from ciliumlab.k8s.apiserver.strict import prune
from ciliumlab.k8s.apiserver.tables import human_duration, jsonpath_first, selector_string
from ciliumlab.k8s.apiserver.watch import WatchHub
from tests.apiserver.kube import LabServer
from tests.conftest import shared_fixture


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (599, "9m59s"), (600, "10m"),
    (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"), (8 * 3600, "8h"), (47 * 3600, "47h"),
    (48 * 3600, "2d"), (49 * 3600, "2d1h"), (8 * 86400, "8d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"),
    (8 * 365 * 86400, "8y"),
])
def test_human_duration_matches_apimachinery(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_jsonpath_first_handles_crd_column_forms() -> None:
    cn = {"spec": {"addresses": [{"type": "InternalIP", "ip": "192.168.10.100"},
                                 {"type": "CiliumInternalIP", "ip": "172.20.0.27"}]},
          "metadata": {"labels": {"io.kubernetes.pod.namespace": "kube-system"}},
          "status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Valid", "status": "True"}]}}
    assert jsonpath_first(cn, '.spec.addresses[?(@.type=="CiliumInternalIP")].ip') == "172.20.0.27"
    assert jsonpath_first(cn, ".spec.addresses[0].ip") == "192.168.10.100"
    assert jsonpath_first(cn, r".metadata.labels.io\.kubernetes\.pod\.namespace") == "kube-system"
    assert jsonpath_first(cn, ".status.conditions[?(@.type=='Valid')].status") == "True"
    assert jsonpath_first(cn, ".status.missing.field") is None


def test_selector_string_sorts_requirements_by_key() -> None:
    sel = {"matchLabels": {"org": "empire", "class": "deathstar"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]},
                                {"key": "zone", "operator": "DoesNotExist"}]}
    assert selector_string(sel) == "class=deathstar,env in (a,b),org=empire,!zone"


def test_strategic_merge_by_key_and_directives() -> None:
    live = {"metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "a", "image": "img:1", "ports": [{"containerPort": 80}], "env": [{"name": "X", "value": "1"}]},
                {"name": "b", "image": "img:2"}]}}}}
    patch = {"metadata": {"labels": {"a": None}, "finalizers": ["y"]},
             "spec": {"replicas": 3, "template": {"spec": {
                 "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                 "containers": [{"name": "a", "image": "img:3", "env": [{"name": "X", "$patch": "delete"}]}]}}}}
    out = strategic_merge(live, patch, "Deployment")
    assert out["metadata"] == {"labels": {"b": "2"}, "finalizers": ["x", "y"]}
    assert out["spec"]["replicas"] == 3
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "b", "image": "img:2"},
        {"name": "a", "image": "img:3", "ports": [{"containerPort": 80}], "env": []}]
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 80}, {"port": 443}]}}
    patched = strategic_merge(svc, {"spec": {"ports": [{"port": 80, "nodePort": 30001}]}}, "Service")
    assert patched["spec"]["ports"] == [{"port": 80, "targetPort": 80, "nodePort": 30001}, {"port": 443}]
    assert strategic_merge({"spec": {"a": 1, "b": 2}}, {"spec": {"$patch": "replace", "c": 3}}) == {"spec": {"c": 3}}


def test_merge_and_json_patch() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None}, "l": [3]}) == {"a": {"c": 2}, "l": [3]}
    doc = {"metadata": {"labels": {}}, "spec": {"items": [1, 2]}}
    out = json_patch(doc, [{"op": "add", "path": "/metadata/labels/a~1b", "value": "x"},
                           {"op": "add", "path": "/spec/items/-", "value": 3},
                           {"op": "replace", "path": "/spec/items/0", "value": 0},
                           {"op": "move", "from": "/spec/items", "path": "/spec/moved"}])
    assert out == {"metadata": {"labels": {"a/b": "x"}}, "spec": {"moved": [0, 2, 3]}}
    with pytest.raises(ApiError) as err:
        json_patch(doc, [{"op": "test", "path": "/spec/items/0", "value": 9}])
    assert err.value.code == 422


def test_prune_reports_what_the_apiserver_would() -> None:
    malformed = yaml.safe_load(shared_fixture("cilium", "malformed_policy.yaml").read_text())
    pruned, unknown = prune(malformed, "CiliumNetworkPolicy")
    assert unknown == ["description", "spec.egress.toCIDR", "spec.podSelector"]
    assert pruned["spec"] == {"egress": {}} and "description" not in pruned
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bogus": 1},
           "spec": {"containers": [{"name": "c", "image": "i", "imagee": "typo"}], "nodeName": "k8s-w1"}}
    assert prune(pod, "Pod")[1] == ["metadata.bogus", "spec.containers[0].imagee"]
    l7 = yaml.safe_load(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml").read_text())
    assert prune(l7, "CiliumNetworkPolicy") == (l7, [])


def test_watch_hub_keeps_history_and_expires_old_versions() -> None:
    lab = Lab()
    hub = WatchHub(lab.store, history=3)
    start = lab.store.resource_version
    for i in range(5):
        lab.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}", "namespace": "default"}})
    assert hub.since(start, "ConfigMap") is None  # older than the 3 kept events: 410 Expired
    recent = hub.since(lab.store.resource_version - 2, "ConfigMap")
    assert [e.obj["metadata"]["name"] for e in recent] == ["cm3", "cm4"]
    lab.store.delete("ConfigMap", "default", "cm4")
    last = hub.since(lab.store.resource_version - 1, "ConfigMap")
    assert [(e.type, e.obj["metadata"]["resourceVersion"]) for e in last] == [("DELETED", str(lab.store.resource_version))]


# -- over HTTP --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    srv = LabServer(Lab())
    yield srv
    srv.close()


def fetch(srv: LabServer, path: str, accept: str = "application/json") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(srv.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_aggregated_discovery_content_type(served: LabServer) -> None:
    accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
    status, headers, body = fetch(served, "/apis", accept)
    assert status == 200
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    groups = {g["metadata"]["name"]: g for g in json.loads(body)["items"]}
    cnp = next(r for r in groups["cilium.io"]["versions"][0]["resources"] if r["resource"] == "ciliumnetworkpolicies")
    assert cnp["shortNames"] == ["cnp", "ciliumnp"] and cnp["categories"] == ["cilium", "ciliumpolicy"]
    assert cnp["subresources"][0]["subresource"] == "status"
    cep = next(r for r in groups["cilium.io"]["versions"][0]["resources"] if r["resource"] == "ciliumendpoints")
    assert "subresources" not in cep
    status, headers, body = fetch(served, "/api")
    assert headers["Content-Type"].startswith("application/json") and json.loads(body)["kind"] == "APIVersions"


def test_openapi_index_covers_every_group_version(served: LabServer) -> None:
    _, _, body = fetch(served, "/openapi/v3")
    paths = json.loads(body)["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/discovery.k8s.io/v1", "apis/networking.k8s.io/v1", "apis/cilium.io/v2",
            "apis/apiextensions.k8s.io/v1"} <= set(paths)
    _, _, doc = fetch(served, paths["apis/cilium.io/v2"]["serverRelativeURL"])
    op = json.loads(doc)["paths"]["/apis/cilium.io/v2/namespaces/{namespace}/ciliumnetworkpolicies/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"]["kind"] == "CiliumNetworkPolicy"
    assert [p["name"] for p in op["parameters"]] == ["fieldValidation"] and "requestBody" not in op
    assert fetch(served, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")[0] == 404


def test_unknown_path_is_a_not_found_status(served: LabServer) -> None:
    status, _, body = fetch(served, "/apis/nope.io/v1/things")
    assert status == 404
    assert json.loads(body)["message"] == "the server could not find the requested resource"


def test_watch_replays_changes_after_the_listed_version(served: LabServer) -> None:
    _, _, body = fetch(served, "/api/v1/namespaces/default/configmaps")
    rv = json.loads(body)["metadata"]["resourceVersion"]
    ctx = served.app[CONTEXT]
    with ctx.gate.lock:
        ctx.lab.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}, "data": {"a": "b"}})
        ctx.lab.remove("ConfigMap", "watched", "default")
    status, headers, raw = fetch(served, f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}"
                                         "&timeoutSeconds=1")
    events = [json.loads(line) for line in raw.decode().splitlines()]
    assert status == 200 and headers["Transfer-Encoding"] == "chunked"
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "watched"), ("DELETED", "watched")]
    assert events[0]["object"]["kind"] == "ConfigMap"


def test_single_get_as_table_carries_partial_metadata(served: LabServer) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    _, _, body = fetch(served, "/api/v1/nodes/k8s-ctr", accept)
    tbl = json.loads(body)
    assert tbl["kind"] == "Table" and [c["name"] for c in tbl["columnDefinitions"]][:5] == [
        "Name", "Status", "Roles", "Age", "Version"]
    row = tbl["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
