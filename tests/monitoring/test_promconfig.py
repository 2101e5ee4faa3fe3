"""build_prometheus: the cluster's Prometheus setup lowered to run on this host."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import yaml

from ciliumlab.monitoring import build_prometheus
from ciliumlab.monitoring.promconfig import OPERATOR_GLOBAL, SA_CA_FILE, SA_TOKEN_FILE, configmap_config

from .conftest import NODE_IPS

API = "127.0.0.1:16443"
LOOPBACK = {(ip, port): f"127.0.0.1:{30000 + i * 10 + port % 10}"
            for i, ip in enumerate(NODE_IPS.values()) for port in (9962, 9963, 9965)}


def address_for(ip: str, port: int) -> str | None:
    return LOOPBACK.get((ip, port))


def build(objects, tmp_path: Path):
    (tmp_path / "ca.crt").write_text("")
    (tmp_path / "token").write_text("t")
    return build_prometheus(objects, files_dir=tmp_path / "files", address_for=address_for,
                            api_ca_file=str(tmp_path / "ca.crt"), api_token_file=str(tmp_path / "token"),
                            api_address=API)


def write(files, tmp_path: Path) -> Path:
    for rel, text in files.files.items():
        path = files.files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = tmp_path / "prometheus.yml"
    config.write_text(files.config)
    return config


def jobs_by_name(config: dict) -> dict[str, dict]:
    return {j["job_name"]: j for j in config["scrape_configs"]}


def test_monitoring_example_lowered(objects, tmp_path):
    files = build(objects, tmp_path)
    assert files.warnings == []
    config = yaml.safe_load(files.config)
    user, _ = configmap_config(objects)
    assert config["global"] == user["global"]
    jobs = jobs_by_name(config)
    assert list(jobs) == ["kubernetes-endpoints", "kubernetes-pods", "kubernetes-services", "kubernetes-cadvisor",
                          "serviceMonitor/monitoring/cilium-metrics/0"]
    for original in user["scrape_configs"]:
        job = jobs[original["job_name"]]
        assert "kubernetes_sd_configs" not in job
        # the user's relabelings come first, verbatim
        assert job["relabel_configs"][:len(original["relabel_configs"])] == original["relabel_configs"]
        (sd,) = job["file_sd_configs"]
        (path,) = sd["files"]
        rel = str(Path(path).relative_to(files.files_dir))
        assert rel.startswith("sd/") and rel in files.files
        json.loads(files.files[rel])
        for key in ("metrics_path", "params", "scheme"):
            assert job.get(key) == original.get(key)
    cadvisor = jobs["kubernetes-cadvisor"]
    assert cadvisor["tls_config"] == {"ca_file": str(tmp_path / "ca.crt")}
    assert cadvisor["bearer_token_file"] == str(tmp_path / "token")
    assert SA_CA_FILE not in files.config and SA_TOKEN_FILE not in files.config
    assert config["rule_files"] == [str(files.files_dir / "rules" / "*.yaml")]
    assert "rules/monitoring-cilium-alerts.yaml" in files.files


def test_lab_relabelings_map_final_addresses(objects, tmp_path):
    files = build(objects, tmp_path)
    pods = jobs_by_name(yaml.safe_load(files.config))["kubernetes-pods"]
    tail = pods["relabel_configs"][7:]
    assert tail[2] == {"source_labels": ["instance", "__address__"], "regex": ";(.+)",
                       "target_label": "instance", "replacement": "${1}"}
    mapped = {r["regex"]: r["replacement"] for r in tail[3:]}
    for (ip, port), loop in LOOPBACK.items():
        assert mapped[re.escape(f"{ip}:{port}")] == loop
    assert mapped[re.escape("kubernetes.default.svc:443")] == API
    assert mapped[re.escape("10.96.0.1:443")] == API  # the kubernetes Service
    assert mapped[re.escape("192.168.10.100:6443")] == API  # its endpoint
    assert not any(r.startswith("172") for r in mapped)  # unmapped pod IPs keep their address
    # every job gets the same tail
    for job in yaml.safe_load(files.config)["scrape_configs"]:
        assert job["relabel_configs"][-len(tail):] == tail


def test_file_sd_targets_carry_meta_labels(objects, tmp_path):
    files = build(objects, tmp_path)
    rel = next(r for r in files.files if r.startswith("sd/01-kubernetes-pods"))
    groups = json.loads(files.files[rel])
    agent = [g for g in groups if g["targets"] == ["192.168.10.101:9962"]]
    assert len(agent) == 1
    labels = agent[0]["labels"]
    assert labels["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] == "true"
    assert labels["__meta_kubernetes_pod_container_port_name"] == "prometheus"
    assert labels["__meta_kubernetes_namespace"] == "kube-system"


def test_promtool_check_config(objects, tmp_path, promtool):
    files = build(objects, tmp_path)
    config = write(files, tmp_path)
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout
    rules = [str(files.files_dir / r) for r in files.files if r.startswith("rules/")]
    result = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_servicemonitors_only(objects, tmp_path, promtool):
    def without_configmap(kind):
        items = objects(kind)
        if kind == "ConfigMap":
            items = [c for c in items if c["metadata"]["name"] != "prometheus"]
        return items

    files = build(without_configmap, tmp_path)
    config = yaml.safe_load(files.config)
    assert config["global"] == OPERATOR_GLOBAL
    assert list(jobs_by_name(config)) == ["serviceMonitor/monitoring/cilium-metrics/0"]
    assert config["rule_files"] == [str(files.files_dir / "rules" / "*.yaml")]
    result = subprocess.run([promtool, "check", "config", str(write(files, tmp_path))], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_to_monitor(tmp_path, promtool):
    files = build(lambda kind: [], tmp_path)
    config = yaml.safe_load(files.config)
    assert config["scrape_configs"] == [] and "rule_files" not in config
    result = subprocess.run([promtool, "check", "config", str(write(files, tmp_path))], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unsupported_role_and_bad_rule_are_warnings(objects, tmp_path):
    cm = copy.deepcopy(next(c for c in objects("ConfigMap") if c["metadata"]["name"] == "prometheus"
                            and c["metadata"]["namespace"] == "cilium-monitoring"))
    prom = yaml.safe_load(cm["data"]["prometheus.yaml"])
    prom["scrape_configs"].append({"job_name": "ingresses", "kubernetes_sd_configs": [{"role": "ingress"}]})
    cm["data"]["prometheus.yaml"] = yaml.safe_dump(prom)
    bad_rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                "metadata": {"name": "bad", "namespace": "monitoring"},
                "spec": {"groups": [{"name": "g", "rules": [{"alert": "X"}]}]}}

    def patched(kind):
        if kind == "ConfigMap":
            return [cm if c["metadata"]["name"] == "prometheus" else c for c in objects(kind)]
        if kind == "PrometheusRule":
            return [*objects(kind), bad_rule]
        return objects(kind)

    files = build(patched, tmp_path)
    assert any("ingress" in w for w in files.warnings)
    assert any("monitoring/bad" in w for w in files.warnings)
    assert "rules/monitoring-bad.yaml" not in files.files
    job = jobs_by_name(yaml.safe_load(files.config))["ingresses"]
    (path,) = job["file_sd_configs"][0]["files"]
    assert files.files[str(Path(path).relative_to(files.files_dir))].strip() == "[]"
