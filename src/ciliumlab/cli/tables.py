"""Small kubectl-style tables for the embedded CLI (the served API renders the real ones)."""

from __future__ import annotations

from datetime import UTC, datetime


def age(created: str, now: float) -> str:
    if not created:
        return "<unknown>"
    ts = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    secs = max(0, int(now - ts))
    if secs < 120:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m" if secs >= 600 else f"{secs // 60}m{secs % 60}s"
    if secs < 86400:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def render(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=False)] + [row[-1]]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


def pods_table(lab, namespace: str, wide: bool = False, show_labels: bool = False) -> str:
    header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if wide:
        header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    if show_labels:
        header += ["LABELS"]
    rows = [header]
    for pod in lab.list("pods", namespace):
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        containers = spec.get("containers") or []
        ready = sum(1 for c in status.get("containerStatuses") or [] if c.get("ready"))
        row = [meta["name"], f"{ready}/{len(containers)}", status.get("phase", "Pending"), "0",
               age(meta.get("creationTimestamp", ""), lab.clock.now())]
        if wide:
            row += [status.get("podIP", "<none>"), spec.get("nodeName", "<none>"), "<none>", "<none>"]
        if show_labels:
            labels = meta.get("labels") or {}
            row.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
        rows.append(row)
    return render(rows)


def cnp_table(lab, namespace: str) -> str:
    rows = [["NAME", "AGE", "VALID"]]
    for cnp in lab.list("cnp", namespace):
        cond = next((c for c in (cnp.get("status") or {}).get("conditions") or [] if c.get("type") == "Valid"), {})
        rows.append([cnp["metadata"]["name"], age(cnp["metadata"].get("creationTimestamp", ""), lab.clock.now()),
                     cond.get("status", "")])
    return render(rows)
