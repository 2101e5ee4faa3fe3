import copy

import pytest

from ciliumlab.errors import InvalidObject
from ciliumlab.k8s import names
from ciliumlab.k8s.validation import apply_defaults, validate


def msgs(obj, old=None):
    return [str(e) for e in validate(obj, old=old)]


def pod(**spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def deploy(sel, labels, **extra):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": sel, "template": {"metadata": {"labels": labels},
                                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, **extra}}


def test_pod_without_containers_matches_kubectl():
    errs = validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "badpod"}, "spec": {}})
    assert [(e.field, e.message, e.reason) for e in errs] == [("spec.containers", "Required value", "FieldValueRequired")]
    assert str(InvalidObject.from_causes("Pod", "badpod", errs)) == \
        'The Pod "badpod" is invalid: spec.containers: Required value'


def test_pod_field_errors():
    p = pod(containers=[{"name": "Web", "ports": [{"containerPort": 0}, {"containerPort": 80, "protocol": "ICMP"}]},
                        {"name": "b", "image": "x"}, {"name": "b", "image": "x"}],
            restartPolicy="Sometimes")
    p["metadata"]["labels"] = {"app": "two words"}
    m = msgs(p)
    assert 'spec.containers[0].name: Invalid value: "Web": ' + names.DNS1123_LABEL_ERR in m
    assert "spec.containers[0].image: Required value" in m
    assert "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive" in m
    assert ('spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'
            in m)
    assert 'spec.containers[2].name: Duplicate value: "b"' in m
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' in m
    assert any(x.startswith('metadata.labels: Invalid value: "two words": a valid label must be an empty string') for x in m)


def test_names():
    assert msgs({"kind": "ConfigMap", "metadata": {}}) == ["metadata.name: Required value: name or generateName is required"]
    m = msgs({"kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert m == ['metadata.name: Invalid value: "Bad_Name": ' + names.DNS1123_SUBDOMAIN_ERR]
    assert "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'" in m[0]
    svc = {"kind": "Service", "metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
    assert msgs(svc) == ['metadata.name: Invalid value: "1svc": ' + names.DNS1035_LABEL_ERR]
    assert msgs({"kind": "Namespace", "metadata": {"name": "a.b"}}) == [
        'metadata.name: Invalid value: "a.b": ' + names.DNS1123_LABEL_ERR]


def test_selector_must_match_template():
    assert msgs(deploy({"matchLabels": {"app": "a"}}, {"app": "b"})) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: '
        "`selector` does not match template `labels`"]
    assert msgs(deploy(None, {"app": "b"})) == ["spec.selector: Required value"]
    assert msgs(deploy({}, {"app": "b"})) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    assert msgs(deploy({"matchLabels": {"app": "a"}}, {"app": "a"}, replicas=-1)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]


def test_immutable_fields():
    old = deploy({"matchLabels": {"app": "a"}}, {"app": "a"})
    new = deploy({"matchLabels": {"app": "b"}}, {"app": "b"})
    assert msgs(new, old=old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"b"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    old_pod = apply_defaults(pod(containers=[{"name": "c", "image": "nginx"}]))
    new_pod = copy.deepcopy(old_pod)
    new_pod["spec"]["containers"][0]["image"] = "nginx:1.27"
    assert msgs(new_pod, old=old_pod) == []
    new_pod["spec"]["restartPolicy"] = "Never"
    m = msgs(new_pod, old=old_pod)
    assert len(m) == 1 and m[0].startswith("spec: Forbidden: pod updates may not change fields other than")
    svc_old = {"kind": "Service", "metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.5.5", "ports": [{"port": 80}]}}
    svc_new = {"kind": "Service", "metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.5.6", "ports": [{"port": 80}]}}
    assert msgs(svc_new, old=svc_old) == ['spec.clusterIPs[0]: Invalid value: []string{"10.96.5.6"}: may not change once set']


def test_service_errors():
    def svc(**spec):
        return {"kind": "Service", "metadata": {"name": "s"}, "spec": spec}

    assert msgs(svc(selector={"a": "b"})) == ["spec.ports: Required value"]
    assert msgs(svc(clusterIP="None")) == []
    assert msgs(svc(type="ExternalName", externalName="example.com")) == []
    assert msgs(svc(type="Foo", ports=[{"port": 80}])) == [
        'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']
    assert msgs(svc(ports=[{"port": 70000}])) == [
        "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"]
    assert msgs(svc(type="NodePort", ports=[{"port": 80, "nodePort": 80}])) == [
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767"]
    assert msgs(svc(clusterIP="10.0.0.1", ports=[{"port": 80}])) == [
        'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP '
        "(10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16"]
    assert msgs(svc(ports=[{"port": 80}, {"port": 81}])) == ["spec.ports[0].name: Required value",
                                                             "spec.ports[1].name: Required value"]


def test_configmap_and_networkpolicy():
    cm = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"bad key": "v", "ok.key": "v"}}
    assert msgs(cm) == [
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '
        "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"]
    np = {"kind": "NetworkPolicy", "metadata": {"name": "n"},
          "spec": {"podSelector": {}, "policyTypes": ["Sideways"],
                   "ingress": [{"from": [{}, {"ipBlock": {"cidr": "nope"}}], "ports": [{"port": 0}]}]}}
    m = msgs(np)
    assert "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive" in m
    assert "spec.ingress[0].from[0]: Required value: must specify a peer" in m
    assert ('spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "nope": must be a valid CIDR value, '
            "(e.g. 10.9.8.0/24 or 2001:db8::/64)") in m
    assert 'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"' in m


def test_cilium_policies_get_metadata_validation():
    cnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "Rule_1"}, "spec": {}}
    assert msgs(cnp)[0].startswith('metadata.name: Invalid value: "Rule_1"')


def test_fixtures_are_valid():
    import pathlib

    import yaml

    fixtures = pathlib.Path(__file__).resolve().parents[1] / "fixtures"
    for f in [*fixtures.joinpath("cilium").glob("*.yaml"), *fixtures.joinpath("seed").glob("*.yaml")]:
        if f.name in ("malformed_policy.yaml", "servicemonitor.yaml", "prometheusrule.yaml", "helm-values-hubble.yaml"):
            continue
        for doc in yaml.safe_load_all(f.read_text()):
            if doc:
                assert validate(doc) == [], (f.name, doc["metadata"]["name"])


def test_pod_defaults():
    p = apply_defaults(pod(containers=[{"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
                                       {"name": "b", "image": "nginx:1.27"},
                                       {"name": "c", "image": "nginx:latest"},
                                       {"name": "d", "image": "quay.io/x/y:v1@sha256:abc"}]))
    s = p["spec"]
    assert (s["restartPolicy"], s["dnsPolicy"], s["schedulerName"], s["serviceAccountName"],
            s["terminationGracePeriodSeconds"], s["enableServiceLinks"]) == (
        "Always", "ClusterFirst", "default-scheduler", "default", 30, True)
    assert [c["imagePullPolicy"] for c in s["containers"]] == ["Always", "IfNotPresent", "Always", "IfNotPresent"]
    c = s["containers"][0]
    assert c["ports"][0]["protocol"] == "TCP"
    assert c["terminationMessagePath"] == "/dev/termination-log" and c["terminationMessagePolicy"] == "File"
    assert {t["key"] for t in s["tolerations"]} == {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
    assert p["status"]["qosClass"] == "BestEffort"
    assert "restartPolicy" not in pod()["spec"]  # input untouched


def test_workload_service_and_policy_defaults():
    d = apply_defaults(deploy({"matchLabels": {"a": "b"}}, {"a": "b"}))["spec"]
    assert d["replicas"] == 1 and d["revisionHistoryLimit"] == 10 and d["progressDeadlineSeconds"] == 600
    assert d["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert d["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    s = apply_defaults({"kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})["spec"]
    assert s["type"] == "ClusterIP" and s["sessionAffinity"] == "None"
    assert s["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert (s["ipFamilies"], s["ipFamilyPolicy"], s["internalTrafficPolicy"]) == (["IPv4"], "SingleStack", "Cluster")
    np = {"kind": "NetworkPolicy", "metadata": {"name": "n"}, "spec": {"podSelector": {}}}
    assert apply_defaults(np)["spec"]["policyTypes"] == ["Ingress"]
    np["spec"]["egress"] = [{}]
    assert apply_defaults(np)["spec"]["policyTypes"] == ["Ingress", "Egress"]
    np["spec"]["policyTypes"] = ["Egress"]
    assert apply_defaults(np)["spec"]["policyTypes"] == ["Egress"]


@pytest.mark.parametrize("value,ok", [("a", True), ("a-b", True), ("-a", False), ("A", False), ("a" * 64, False)])
def test_dns1123_label(value, ok):
    assert (names.is_dns1123_label(value) == []) is ok


def test_pod_template_hash():
    t = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    h = names.compute_hash(t)
    assert h == names.compute_hash(t) and set(h) <= set(names.ALPHANUMS) and 1 <= len(h) <= 10
    assert names.compute_hash(t, 1) != h
    t2 = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
    assert names.compute_hash(t2) != h
    assert names.safe_encode_string("0123") == "".join(names.ALPHANUMS[ord(c) % 27] for c in "0123")
    assert names.fnv32a(b"") == 0x811C9DC5 and names.fnv32a(b"a") == 0xE40C292C
