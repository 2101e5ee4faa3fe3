"""PrometheusRule → rule files, checked as Prometheus checks them (and by promtool itself)."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
import yaml

from ciliumlab.monitoring.rules import rule_file, rule_file_name, rule_files, validate_groups

from .conftest import PROMETHEUSRULE


def seed_rule() -> dict:
    return yaml.safe_load(PROMETHEUSRULE.read_text())


def test_seed_rule_file():
    rule = seed_rule()
    assert rule_file_name(rule) == "rules/monitoring-cilium-alerts.yaml"
    assert yaml.safe_load(rule_file(rule)) == {"groups": [{"name": "cilium.rules", "rules": [{
        "alert": "CiliumHighErrorRate", "expr": "rate(cilium_drop_count_total[5m]) > 0.1", "for": "5m",
        "labels": {"severity": "critical"}, "annotations": {"description": "Cilium drop rate is high"}}]}]}


@pytest.mark.parametrize(("groups", "needle"), [
    ([{"name": "g", "rules": [{"alert": "A", "record": "b", "expr": "1"}]}], "only one of"),
    ([{"name": "g", "rules": [{"expr": "1"}]}], "one of 'record' or 'alert'"),
    ([{"name": "g", "rules": [{"alert": "A"}]}], "'expr' must be set"),
    ([{"name": "g", "rules": [{"record": "a-b", "expr": "1"}]}], "invalid recording rule name"),
    ([{"name": "g", "rules": [{"record": "a", "expr": "1", "for": "5m"}]}], "invalid field 'for'"),
    ([{"name": "g", "rules": [{"alert": "A", "expr": "1", "for": "5 minutes"}]}], "not a valid duration"),
    ([{"name": "g", "rules": [{"alert": "A", "expr": "1", "labels": {"bad-name": "x"}}]}], "invalid label name"),
    ([{"name": "g", "rules": [{"alert": "A", "expr": "1", "severity": "x"}]}], "field severity not found"),
    ([{"name": "g", "rules": []}, {"name": "g", "rules": []}], "repeated"),
    ([{"rules": []}], "groupname must not be empty"),
])
def test_validation(groups, needle):
    errs = validate_groups(groups)
    assert any(needle in e for e in errs), errs


def test_invalid_rules_are_left_out_with_a_warning():
    bad = seed_rule()
    bad["metadata"]["name"] = "broken"
    bad["spec"]["groups"][0]["rules"][0]["for"] = "soon"
    files, warnings = rule_files([seed_rule(), bad])
    assert list(files) == ["rules/monitoring-cilium-alerts.yaml"]
    assert len(warnings) == 1 and "monitoring/broken" in warnings[0] and "for" in warnings[0]


def test_promtool_check_rules(tmp_path, promtool):
    path = tmp_path / "rules.yaml"
    path.write_text(rule_file(seed_rule()))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_seed_alert_fires_with_promtool_test_rules(tmp_path, promtool):
    """rate(cilium_drop_count_total[5m]) > 0.1 for 5m: 60 drops a minute (1/s) fire it after 5 minutes
    of pending; 1 drop a minute (0.017/s) never does."""
    rules = tmp_path / "cilium.yaml"
    rules.write_text(rule_file(seed_rule()))
    test = tmp_path / "test.yaml"
    test.write_text(textwrap.dedent(f"""\
        rule_files:
          - {rules}
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'cilium_drop_count_total{{reason="Policy denied",direction="INGRESS"}}'
                values: '0+60x20'
            alert_rule_test:
              - eval_time: 4m
                alertname: CiliumHighErrorRate
                exp_alerts: []
              - eval_time: 10m
                alertname: CiliumHighErrorRate
                exp_alerts:
                  - exp_labels:
                      severity: critical
                      reason: Policy denied
                      direction: INGRESS
                    exp_annotations:
                      description: Cilium drop rate is high
          - interval: 1m
            input_series:
              - series: 'cilium_drop_count_total{{reason="Policy denied",direction="INGRESS"}}'
                values: '0+1x20'
            alert_rule_test:
              - eval_time: 15m
                alertname: CiliumHighErrorRate
                exp_alerts: []
        """))
    result = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
