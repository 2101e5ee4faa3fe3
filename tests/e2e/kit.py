"""Helpers for end-to-end scenario tests: run real traffic with `lab.exec`, classify the outcome.

An outcome is what a user would conclude from the client's output plus, for drops, the reason
the datapath reported: FORWARDED, DROPPED/133, DROPPED/181, L7-403, REFUSED.
"""

from __future__ import annotations

from ciliumlab import Lab
from ciliumlab.cilium.datapath import events as ev


def drops_during(lab: Lab, action) -> tuple[object, set[int]]:
    before = {node: len(lab.events(node)) for node in lab.nodes}
    result = action()
    reasons = set()
    for node in lab.nodes:
        for event in lab.events(node)[before[node]:]:
            if event.type == ev.DROP:
                reasons.add(event.drop_reason)
    return result, reasons


def classify(result, reasons: set[int]) -> str:
    if result.exit_code == 0:
        if "Access denied" in result.stdout and "403" in result.stdout:
            return "L7-403"
        return "FORWARDED"
    if result.exit_code == 7:
        return "REFUSED"
    if result.exit_code in (28, 1) and reasons:
        return "DROPPED/" + "/".join(str(r) for r in sorted(reasons))
    return f"EXIT-{result.exit_code}"


def http(lab: Lab, pod: str, target: str, *, ns: str = "default", method: str = "GET", path: str = "/",
         headers: tuple[str, ...] = ()) -> str:
    """curl from `pod` to `target` (host[:port]); returns the outcome."""
    hdrs = " ".join(f"-H '{h}'" for h in headers)
    cmd = f"curl -s -w '\\n%{{http_code}}' --connect-timeout 1 -X {method} {hdrs} http://{target}{path}"
    result, reasons = drops_during(lab, lambda: lab.exec(pod, cmd, namespace=ns))
    if result.exit_code == 0:
        body, _, code = result.stdout.rpartition("\n")
        return "L7-403" if (code == "403" and body == "Access denied\r\n") else "FORWARDED"
    return classify(result, reasons)


def pod_ip(lab: Lab, pod: str, ns: str = "default") -> str:
    return lab.get("pod", pod, ns)["status"]["podIP"]


def ping(lab: Lab, pod: str, ip: str, ns: str = "default") -> str:
    result, reasons = drops_during(lab, lambda: lab.exec(pod, f"ping -c 1 -W 1 {ip}", namespace=ns))
    if result.exit_code == 0:
        return "FORWARDED"
    return "DROPPED/" + "/".join(str(r) for r in sorted(reasons)) if reasons else f"EXIT-{result.exit_code}"
