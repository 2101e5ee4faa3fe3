"""Run every benchmark and print the figures (see benchmarks/RESULTS.md)."""

from __future__ import annotations

from . import policy_scale, traffic


def main() -> None:
    p = policy_scale.run()
    print(f"policy: {policy_scale.PODS} pods ({p['identities']} identities) / {policy_scale.POLICIES} CNPs: "
          f"compute {p['compute_s']:.2f} s (target <= 5 s)")
    print(f"policy: one-policy update in that cluster: {p['update_ms']:.1f} ms (target <= 100 ms)")
    print(f"policy: verdict lookups on a compiled per-endpoint map: {p['lookups_per_s']:,.0f}/s "
          f"(target >= 2,000,000/s)")
    t = traffic.run()
    print(f"traffic: mixed curl workload: {t['requests_per_s']:,.0f} requests/s, {t['events_per_s']:,.0f} events/s "
          f"({t['events_per_request']:.1f} events/request; target >= 100,000 events/s)")


if __name__ == "__main__":
    main()
