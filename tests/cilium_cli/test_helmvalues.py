"""Helm values → cilium-config keys, as the Cilium 1.17 chart's cilium-configmap.yaml renders them."""

from __future__ import annotations

from pathlib import Path

import yaml

from ciliumlab.cli.helmvalues import config_changes, merge, parse_set

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "helm-values-hubble.yaml"


def test_set_syntax_is_helms() -> None:
    assert parse_set("hubble.relay.enabled=true") == {"hubble": {"relay": {"enabled": True}}}
    assert parse_set("hubble.metrics.enabled={dns,drop,tcp}") == {"hubble": {"metrics": {"enabled": ["dns", "drop", "tcp"]}}}
    assert parse_set("a=1,b=x") == {"a": 1, "b": "x"}
    assert parse_set("l[1]=y") == {"l": [None, "y"]}
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


def test_seed_values_render_the_charts_keys() -> None:
    put, drop = config_changes(yaml.safe_load(SEED.read_text()))
    assert not drop
    assert put["enable-hubble"] == "true"
    # hubble.metrics.enabled | join " "
    assert put["hubble-metrics"].startswith("dns drop tcp flow port-distribution icmp httpV2:exemplars=true;")
    assert put["hubble-metrics-server"] == ":9965"
    assert put["enable-hubble-open-metrics"] == "true"
    # export.static: allowList/denyList | join ",", fieldMask | join " "
    assert put["hubble-export-file-path"] == "/var/run/cilium/hubble/events.log"
    assert put["hubble-export-allowlist"] == '{"verdict":["DROPPED","ERROR"]}'
    assert put["hubble-export-denylist"] == '{"source_pod":["kube-system/"]},{"destination_pod":["kube-system/"]}'
    assert put["hubble-export-fieldmask"].split() == [
        "time", "source.namespace", "source.pod_name", "destination.namespace", "destination.pod_name", "l4", "IP",
        "node_name", "is_reply", "verdict", "drop_reason_desc"]
    assert put["hubble-export-file-max-size-mb"] == "10"
    assert put["hubble-export-file-max-backups"] == "5"
    assert put["prometheus-serve-addr"] == ":9962"
    assert put["operator-prometheus-serve-addr"] == ":9963"


def test_policy_and_ipam_values() -> None:
    put, drop = config_changes(parse_set("policyEnforcementMode=always,policyAuditMode=true,kubeProxyReplacement=true,"
                                         "ipam.mode=cluster-pool"))
    assert put == {"enable-policy": "always", "policy-audit-mode": "true", "kube-proxy-replacement": "true",
                   "ipam": "cluster-pool"}
    put, drop = config_changes(parse_set("policyAuditMode=false,prometheus.enabled=false"))
    assert "policy-audit-mode" in drop and "prometheus-serve-addr" in drop and not put
    put, drop = config_changes(parse_set("hubble.export.dynamic.enabled=true"))
    assert put == {"hubble-flowlogs-config-path": "/flowlog-config/flowlogs.yaml"}
