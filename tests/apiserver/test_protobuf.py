"""Kubernetes protobuf request bodies: kubectl's generator commands (`create namespace|configmap|
secret|deployment|service|serviceaccount|role…`, `expose`) send built-in kinds as
`application/vnd.kubernetes.protobuf`; the server decodes them and answers JSON.

The decoder is checked on hand-encoded bodies (wire-format corners) and end to end with the real
kubectl, whose bodies are the ground truth.
"""

from __future__ import annotations

import base64
import json
import random
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ciliumlab import Lab
from ciliumlab.k8s.apiserver import protobuf as pb
from tests.apiserver.kube import KUBECTL, Kubectl, LabServer


# -- a tiny encoder for the unit tests ----------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def vi(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def ld(num: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def entry(num: int, key: str, value: bytes | str) -> bytes:
    return ld(num, ld(1, key) + ld(2, value))


def envelope(api_version: str, kind: str, raw: bytes, **extra: str) -> bytes:
    tail = b"".join(ld(3 if k == "encoding" else 4, v) for k, v in extra.items())
    return pb.MAGIC + ld(1, ld(1, api_version) + ld(2, kind)) + ld(2, raw) + tail


EMPTY_META_FIELDS = ld(2, "") + ld(3, "") + ld(4, "") + ld(5, "") + ld(6, "") + vi(7, 0) + ld(8, b"")


# -- unit: the decoder --------------------------------------------------------------------------
def test_namespace_drops_go_zero_values_like_json_omitempty() -> None:
    body = envelope("v1", "Namespace", ld(1, ld(1, "monitoring") + EMPTY_META_FIELDS) + ld(2, b"") + ld(3, ld(1, "")))
    assert pb.decode_object(body) == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"},
                                      "spec": {}, "status": {}}


def test_secret_bytes_map_becomes_base64_and_empty_values_stay() -> None:
    raw = ld(1, ld(1, "s")) + entry(2, "pw", b"\x00\xffs3cr3t") + entry(2, "empty", b"") + ld(3, "Opaque")
    obj = pb.decode_object(envelope("v1", "Secret", raw))
    assert obj["data"] == {"pw": base64.b64encode(b"\x00\xffs3cr3t").decode(), "empty": ""}
    assert obj["type"] == "Opaque"


def test_pointer_zero_is_kept_plain_zero_is_dropped() -> None:
    spec = vi(1, 0) + vi(5, 0) + vi(7, 0) + vi(9, 600)  # replicas=0 (pointer), minReadySeconds=0, paused=false
    obj = pb.decode_object(envelope("apps/v1", "Deployment", ld(1, ld(1, "d")) + ld(2, spec)))
    assert obj["spec"] == {"replicas": 0, "progressDeadlineSeconds": 600}


def test_int_or_string_quantity_maps_and_inlined_structs() -> None:
    http_get = ld(1, "/healthz") + ld(2, vi(1, 1) + ld(3, "http"))  # port: IntOrString "http"
    probe = ld(1, ld(2, http_get)) + vi(4, 10)  # ProbeHandler is embedded (field 1) in Probe
    env = ld(1, "A") + ld(3, ld(3, ld(1, ld(1, "cm")) + ld(2, "key")))  # configMapKeyRef{name inlined, key}
    resources = entry(1, "cpu", ld(1, "500m")) + entry(2, "memory", ld(1, "64Mi"))
    container = ld(1, "c") + ld(2, "nginx") + ld(7, env) + ld(8, resources) + ld(10, probe)
    volume = ld(1, "cfg") + ld(2, ld(19, ld(1, ld(1, "my-cm")) + vi(3, 0o644)))
    obj = pb.decode_object(envelope("v1", "Pod", ld(1, ld(1, "p")) + ld(2, ld(1, volume) + ld(2, container))))
    c = obj["spec"]["containers"][0]
    assert c["env"] == [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "key"}}}]
    assert c["resources"] == {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}}
    assert c["livenessProbe"] == {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    assert obj["spec"]["volumes"] == [{"name": "cfg", "configMap": {"name": "my-cm", "defaultMode": 0o644}}]


def test_service_port_int_target_and_negative_int32() -> None:
    port = ld(1, "http") + ld(2, "TCP") + vi(3, 80) + ld(4, vi(1, 0) + vi(2, 8080) + ld(3, "")) + vi(5, 0)
    obj = pb.decode_object(envelope("v1", "Service", ld(1, ld(1, "web")) + ld(2, ld(1, port) + ld(4, "ClusterIP"))))
    assert obj["spec"]["ports"] == [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]
    obj = pb.decode_object(envelope("v1", "Pod", ld(1, ld(1, "p")) + ld(2, vi(25, -5))))
    assert obj["spec"]["priority"] == -5


def test_packed_and_unpacked_repeated_scalars() -> None:
    packed = ld(4, _varint(1) + _varint(2) + _varint(300))
    unpacked = vi(4, 7) + vi(4, 8)
    for sc, want in ((packed, [1, 2, 300]), (unpacked, [7, 8])):
        obj = pb.decode_object(envelope("v1", "Pod", ld(1, ld(1, "p")) + ld(2, ld(14, sc))))
        assert obj["spec"]["securityContext"]["supplementalGroups"] == want


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    junk = vi(99, 5) + ld(98, "x") + _varint(97 << 3 | 1) + b"\0" * 8 + _varint(96 << 3 | 5) + b"\0" * 4
    obj = pb.decode_object(envelope("v1", "ConfigMap", junk + ld(1, ld(1, "c") + junk) + entry(2, "a", "b")))
    assert obj == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}


def test_repeated_strings_keep_empty_items_and_time_is_rfc3339() -> None:
    rule = ld(1, "get") + ld(2, "") + ld(2, "apps") + ld(3, "pods")
    meta = ld(1, "r") + ld(8, vi(1, 1700000000))
    obj = pb.decode_object(envelope("rbac.authorization.k8s.io/v1", "Role", ld(1, meta) + ld(2, rule)))
    assert obj["rules"] == [{"verbs": ["get"], "apiGroups": ["", "apps"], "resources": ["pods"]}]
    assert obj["metadata"]["creationTimestamp"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("body, error", [
    (b"hello", "does not appear to be a protobuf message"),
    (envelope("v1", "Namespace", ld(1, ld(1, "ok")))[:-2], "runs past the end"),
    (envelope("v1", "Namespace", ld(1, vi(1, 5))), "metadata.name: expected length-delimited string"),
    (pb.MAGIC + ld(2, b""), "Kind' is missing"),
    (pb.MAGIC + b"\x0b", "unsupported wire type 3"),
    (envelope("v1", "Namespace", b"", encoding="gzip"), "content encoding"),
])
def test_malformed_bodies_raise_protobuf_error(body: bytes, error: str) -> None:
    with pytest.raises(pb.ProtobufError, match=error):
        pb.decode_object(body)


def test_kinds_without_schema_are_unsupported() -> None:
    with pytest.raises(pb.UnsupportedKind) as exc:
        pb.decode_object(envelope("cilium.io/v2", "CiliumNetworkPolicy", ld(1, ld(1, "p"))))
    assert exc.value.kind == "CiliumNetworkPolicy"


def test_mutated_bodies_never_raise_anything_but_protobuf_error() -> None:
    container = ld(1, "c") + ld(2, "nginx") + ld(6, vi(3, 80)) + ld(8, entry(1, "cpu", ld(1, "1")))
    spec = vi(1, 2) + ld(2, entry(1, "app", "web")) + ld(3, ld(1, ld(11, ld(1, "app") + ld(2, "web"))) +
                                                       ld(2, ld(2, container)))
    seeds = [envelope("apps/v1", "Deployment", ld(1, ld(1, "web")) + ld(2, spec)),
             envelope("v1", "Secret", ld(1, ld(1, "s")) + entry(2, "k", b"v"))]
    rnd = random.Random(7)
    for _ in range(5000):
        b = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(4, len(b))
            if rnd.random() < 0.6:
                b[i] = rnd.randrange(256)
            else:
                del b[i:i + rnd.randint(1, 6)]
        try:
            pb.decode_object(bytes(b))
        except pb.ProtobufError:
            pass


# -- end to end: the real kubectl ---------------------------------------------------------------
kubectl_only = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")


@pytest.fixture(scope="module")
def server():
    srv = LabServer(Lab())
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def kubectl(server: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(server, tmp_path_factory.mktemp("kubectl-protobuf"))


def get(kubectl: Kubectl, *args: str) -> dict:
    return json.loads(kubectl.ok("get", *args, "-o", "json"))


@kubectl_only
def test_create_namespace_is_sent_as_protobuf(kubectl: Kubectl) -> None:
    res = kubectl("create", "namespace", "monitoring", "-v=8")
    assert res.rc == 0, res.err
    assert "namespace/monitoring created" in res.out
    assert "Content-Type: application/vnd.kubernetes.protobuf" in res.err  # the path under test
    assert "monitoring" in kubectl.ok("get", "ns", "monitoring")
    assert get(kubectl, "ns", "monitoring")["status"]["phase"] == "Active"
    again = kubectl("create", "namespace", "monitoring")
    assert again.rc == 1 and 'namespaces "monitoring" already exists' in again.err


@kubectl_only
def test_create_configmap_and_secrets(kubectl: Kubectl) -> None:
    kubectl.ok("create", "configmap", "cfg", "--from-literal=a=b", "--from-literal=c=d")
    assert get(kubectl, "configmap", "cfg")["data"] == {"a": "b", "c": "d"}
    kubectl.ok("create", "secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=pw=s3cr3t")
    secret = get(kubectl, "secret", "creds")
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {"user": "admin", "pw": "s3cr3t"}
    assert secret["type"] == "Opaque"
    kubectl.ok("create", "secret", "docker-registry", "reg", "--docker-server=r.io", "--docker-username=u",
               "--docker-password=p")
    reg = get(kubectl, "secret", "reg")
    assert reg["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(reg["data"][".dockerconfigjson"]))["auths"]["r.io"]["username"] == "u"


@kubectl_only
def test_create_deployment_service_and_expose(kubectl: Kubectl) -> None:
    kubectl.ok("create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80")
    dep = get(kubectl, "deployment", "web")
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert (c["name"], c["image"], c["ports"]) == ("nginx", "nginx", [{"containerPort": 80, "protocol": "TCP"}])

    kubectl.ok("create", "service", "clusterip", "web", "--tcp=80:8080")
    svc = get(kubectl, "service", "web")
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["selector"] == {"app": "web"}
    assert svc["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]

    kubectl.ok("expose", "deployment", "web", "--port", "80", "--name", "web-exposed")
    exposed = get(kubectl, "service", "web-exposed")
    assert exposed["spec"]["selector"] == {"app": "web"}
    assert exposed["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]

    kubectl.ok("create", "deployment", "idle", "--image=busybox", "--replicas=0", "-n", "kube-public", "--",
               "sleep", "3600")
    idle = get(kubectl, "deployment", "idle", "-n", "kube-public")
    assert idle["spec"]["replicas"] == 0
    assert idle["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", "3600"]


@kubectl_only
def test_create_deployment_dry_run_server(kubectl: Kubectl) -> None:
    out = kubectl.ok("create", "deployment", "ghost", "--image=y", "--dry-run=server", "-o", "json")
    obj = json.loads(out)
    assert obj["kind"] == "Deployment" and obj["metadata"]["name"] == "ghost"
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "y"
    assert kubectl("get", "deployment", "ghost").rc == 1


@kubectl_only
def test_create_serviceaccount_and_rbac(kubectl: Kubectl) -> None:
    kubectl.ok("create", "serviceaccount", "robot")
    assert get(kubectl, "serviceaccount", "robot")["metadata"]["name"] == "robot"
    kubectl.ok("create", "role", "reader", "--verb=get,list", "--resource=pods,deployments.apps")
    assert get(kubectl, "role", "reader")["rules"] == [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"]}]
    kubectl.ok("create", "rolebinding", "reader-binding", "--role=reader", "--user=bob",
               "--serviceaccount=default:robot")
    rb = get(kubectl, "rolebinding", "reader-binding")
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert [(s["kind"], s["name"]) for s in rb["subjects"]] == [("User", "bob"), ("ServiceAccount", "robot")]
    kubectl.ok("create", "clusterrole", "logs", "--verb=get", "--non-resource-url=/logs")
    assert get(kubectl, "clusterrole", "logs")["rules"] == [{"verbs": ["get"], "nonResourceURLs": ["/logs"]}]
    kubectl.ok("create", "clusterrolebinding", "logs-binding", "--clusterrole=logs", "--user=alice")
    assert get(kubectl, "clusterrolebinding", "logs-binding")["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]


def _post(server: LabServer, path: str, body: bytes, ctype: str = pb.MEDIA_TYPE) -> tuple[int, dict]:
    req = urllib.request.Request(server.url + path, data=body, method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_undecodable_bodies_get_a_status(server: LabServer) -> None:
    code, status = _post(server, "/api/v1/namespaces", b"not protobuf")
    assert (code, status["kind"], status["reason"]) == (400, "Status", "BadRequest")
    assert "does not appear to be a protobuf message" in status["message"]
    code, status = _post(server, "/api/v1/namespaces", envelope("v1", "Namespace", ld(1, ld(1, "x")))[:-1])
    assert (code, status["reason"]) == (400, "BadRequest")
    code, status = _post(server, "/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies",
                         envelope("cilium.io/v2", "CiliumNetworkPolicy", ld(1, ld(1, "p"))))
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")
    code, status = _post(server, "/api/v1/namespaces/default/configmaps",
                         envelope("v1", "Namespace", ld(1, ld(1, "n"))))
    assert (code, status["message"]) == (400, 'Namespace in version "v1" cannot be handled as a ConfigMap')
    code, status = _post(server, "/api/v1/namespaces", b"\xa0", "application/cbor")
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")


def test_hand_encoded_protobuf_creates_an_object(server: LabServer) -> None:
    code, obj = _post(server, "/api/v1/namespaces/default/configmaps",
                      envelope("v1", "ConfigMap", ld(1, ld(1, "handmade") + EMPTY_META_FIELDS) + entry(2, "k", "v")))
    assert code == 201 and obj["data"] == {"k": "v"} and obj["metadata"]["namespace"] == "default"
