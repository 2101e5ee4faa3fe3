"""ServiceMonitor → scrape jobs, as prometheus-operator generates them."""

from __future__ import annotations

import pytest
import yaml

from ciliumlab.monitoring.servicemonitor import ServiceMonitorError, relabel_config, servicemonitor_jobs

from .conftest import SERVICEMONITOR


def seed_sm() -> dict:
    return yaml.safe_load(SERVICEMONITOR.read_text())


def test_seed_servicemonitor_job():
    (job,) = servicemonitor_jobs(seed_sm())
    assert job["job_name"] == "serviceMonitor/monitoring/cilium-metrics/0"
    assert job["honor_labels"] is False
    assert job["scrape_interval"] == "10s"
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": ["kube-system"]}}]
    assert job["relabel_configs"] == [
        {"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"},
        {"action": "keep", "source_labels": ["__meta_kubernetes_service_label_k8s_app",
                                             "__meta_kubernetes_service_labelpresent_k8s_app"],
         "regex": "(cilium);true"},
        {"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"], "regex": "metrics"},
        {"source_labels": ["__meta_kubernetes_endpoint_address_target_kind",
                           "__meta_kubernetes_endpoint_address_target_name"],
         "separator": ";", "regex": "Node;(.*)", "replacement": "${1}", "target_label": "node"},
        {"source_labels": ["__meta_kubernetes_endpoint_address_target_kind",
                           "__meta_kubernetes_endpoint_address_target_name"],
         "separator": ";", "regex": "Pod;(.*)", "replacement": "${1}", "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job", "replacement": "${1}"},
        {"target_label": "endpoint", "replacement": "metrics"},
        {"source_labels": ["__address__"], "target_label": "__tmp_hash", "modulus": 1, "action": "hashmod"},
        {"source_labels": ["__tmp_hash"], "regex": "0", "action": "keep"},
    ]


def test_endpoint_options_expressions_and_target_labels():
    sm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
          "metadata": {"name": "hubble", "namespace": "kube-system"},
          "spec": {"selector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["hubble", "x"]},
                                                     {"key": "tier", "operator": "NotIn", "values": ["dev"]},
                                                     {"key": "app.kubernetes.io/name", "operator": "Exists"},
                                                     {"key": "skip", "operator": "DoesNotExist"}]},
                   "jobLabel": "k8s-app", "targetLabels": ["app.kubernetes.io/part-of"], "podTargetLabels": ["k8s-app"],
                   "endpoints": [{"targetPort": 9965, "path": "/m", "scheme": "https", "interval": "5s",
                                  "scrapeTimeout": "3s", "honorLabels": True, "params": {"a": ["b"]},
                                  "tlsConfig": {"insecureSkipVerify": True},
                                  "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                                   "targetLabel": "node", "action": "Replace"}],
                                  "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "go_.*",
                                                         "action": "drop"}]},
                                 {"targetPort": "hubble-metrics"}]}}
    first, second = servicemonitor_jobs(sm)
    assert first["job_name"] == "serviceMonitor/kube-system/hubble/0"
    assert second["job_name"] == "serviceMonitor/kube-system/hubble/1"
    assert first["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": ["kube-system"]}}]
    assert (first["metrics_path"], first["scheme"], first["scrape_interval"], first["scrape_timeout"]) == \
        ("/m", "https", "5s", "3s")
    assert first["honor_labels"] is True and first["params"] == {"a": ["b"]}
    assert first["tls_config"] == {"insecure_skip_verify": True}
    assert first["metric_relabel_configs"] == [{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}]
    rel = first["relabel_configs"]
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_service_label_k8s_app",
                                                "__meta_kubernetes_service_labelpresent_k8s_app"],
            "regex": "(hubble|x);true"} in rel
    assert {"action": "drop", "source_labels": ["__meta_kubernetes_service_label_tier",
                                                "__meta_kubernetes_service_labelpresent_tier"],
            "regex": "(dev);true"} in rel
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_service_labelpresent_app_kubernetes_io_name"],
            "regex": "true"} in rel
    assert {"action": "drop", "source_labels": ["__meta_kubernetes_service_labelpresent_skip"], "regex": "true"} in rel
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": "9965"} in rel
    assert {"source_labels": ["__meta_kubernetes_service_label_app_kubernetes_io_part_of"],
            "target_label": "app_kubernetes_io_part_of", "regex": "(.+)", "replacement": "${1}"} in rel
    assert {"source_labels": ["__meta_kubernetes_pod_label_k8s_app"], "target_label": "k8s_app",
            "regex": "(.+)", "replacement": "${1}"} in rel
    job_rules = [r for r in rel if r.get("target_label") == "job"]
    assert job_rules[-1] == {"source_labels": ["__meta_kubernetes_service_label_k8s_app"], "target_label": "job",
                             "regex": "(.+)", "replacement": "${1}"}
    assert {"target_label": "endpoint", "replacement": "9965"} in rel
    # the endpoint's own relabelings come after the operator's, before the shard
    assert rel[-3] == {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "node", "action": "replace"}
    assert {"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
            "regex": "hubble-metrics"} in second["relabel_configs"]


def test_namespace_selector_any_and_default():
    sm = seed_sm()
    sm["spec"]["namespaceSelector"] = {"any": True}
    assert servicemonitor_jobs(sm)[0]["kubernetes_sd_configs"] == [{"role": "endpoints"}]
    del sm["spec"]["namespaceSelector"]
    assert servicemonitor_jobs(sm)[0]["kubernetes_sd_configs"] == [{"role": "endpoints",
                                                                    "namespaces": {"names": ["monitoring"]}}]


def test_rejects():
    sm = seed_sm()
    del sm["spec"]["selector"]
    with pytest.raises(ServiceMonitorError):
        servicemonitor_jobs(sm)
    with pytest.raises(ServiceMonitorError):
        relabel_config({"bogus": 1})
