"""The seed's alert on the lab's own numbers: sustained xwing traffic, scraped once a lab minute from
the deathstar node's agent endpoint, fed to `promtool test rules` as the series Prometheus would
have stored. `rate(cilium_drop_count_total[5m]) > 0.1` for 5m fires; a quiet node's series does not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

import ciliumlab
from ciliumlab import Lab
from ciliumlab.monitoring.rules import rule_file
from tests.conftest import shared_fixture

RULE1 = Path(ciliumlab.__file__).parent / "data" / "starwars" / "sw_l3_l4_policy.yaml"
MINUTES = 12
ATTEMPTS_PER_MINUTE = 4  # each: SYN + 1 retransmit before curl's 2 s connect timeout


def policy_drops(lab: Lab, node: str) -> float:
    for family in text_string_to_metric_families(lab.scrape("cilium-agent", node=node)):
        for sample in family.samples:
            if sample.name == "cilium_drop_count_total" and sample.labels == {"direction": "INGRESS",
                                                                             "reason": "Policy denied"}:
                return sample.value
    return 0.0


def test_seed_alert_fires_under_sustained_xwing_traffic(tmp_path, promtool):
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(RULE1)
    deathstar = lab.list("pod", "default", "class=deathstar")[0]
    target, ip = deathstar["spec"]["nodeName"], deathstar["status"]["podIP"]
    quiet = next(n for n in lab.nodes if n not in {p["spec"]["nodeName"] for p in lab.list("pod", "default",
                                                                                             "class=deathstar")})
    samples: dict[str, list[float]] = {target: [], quiet: []}
    for _minute in range(MINUTES + 1):
        start = lab.clock.now()
        for node in samples:
            samples[node].append(policy_drops(lab, node))
        for _ in range(ATTEMPTS_PER_MINUTE):
            res = lab.exec("xwing", f"curl -s -XPOST --connect-timeout 2 {ip}/v1/request-landing")
            assert res.exit_code == 28
        lab.clock.sleep(max(0.0, 60 - (lab.clock.now() - start)))
    increase = samples[target][-1] - samples[target][0]
    assert increase >= MINUTES * ATTEMPTS_PER_MINUTE * 2  # every attempt dropped at least twice on that node
    assert samples[quiet][-1] == 0

    rules = tmp_path / "cilium.yaml"
    rules.write_text(rule_file(yaml.safe_load(shared_fixture("seed", "prometheusrule.yaml").read_text())))

    def series(node: str) -> dict:
        ip_of = lab.cilium.nodes[node].host.ip
        return {"series": f'cilium_drop_count_total{{direction="INGRESS",reason="Policy denied",'
                          f'instance="{ip_of}:9962",job="kubernetes-pods"}}',
                "values": " ".join(f"{v:g}" for v in samples[node])}

    firing = {"exp_labels": {"severity": "critical", "direction": "INGRESS", "reason": "Policy denied",
                             "instance": f"{lab.cilium.nodes[target].host.ip}:9962", "job": "kubernetes-pods"},
              "exp_annotations": {"description": "Cilium drop rate is high"}}
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": [series(target), series(quiet)],
                       "alert_rule_test": [
                           {"eval_time": "4m", "alertname": "CiliumHighErrorRate", "exp_alerts": []},
                           {"eval_time": f"{MINUTES}m", "alertname": "CiliumHighErrorRate", "exp_alerts": [firing]},
                       ]}]}
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
