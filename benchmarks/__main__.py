"""Run every benchmark and print the figures (see benchmarks/RESULTS.md)."""

from __future__ import annotations

from . import hubble_bench, metrics_export, policy_scale, served_bench, traffic


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
    h = hubble_bench.run()
    print(f"hubble: three {hubble_bench.RING:,}-flow rings: {h['ring_memory_mb']:.0f} MB (target <= 100 MB)")
    print(f"hubble: ring insert rate: {h['ring_insert_per_s']:,.0f} flows/s")
    print(f"hubble: GetFlows streaming (relay, in-process): {h['getflows_per_s']:,.0f} flows/s (target >= 50,000/s)")
    print(f"hubble: GetFlows streaming over gRPC (relay server -> Python client): "
          f"{h['grpc_getflows_per_s']:,.0f} flows/s")
    print(f"hubble: observe --input-file over {h['input_file_lines']:,} flows, --protocol tcp keeps "
          f"{h['input_file_kept']:,}: {h['input_file_per_s']:,.0f} flows/s end to end")
    print(metrics_export.describe(metrics_export.run()))
    s = served_bench.run()
    print(f"served: `ciliumlab up` to ready: fresh {s['up_fresh_s']:.2f} s, restored {s['up_restored_s']:.2f} s "
          f"(target <= 2 s); `down` {s['down_s']:.2f} s")
    print(f"served: acknowledged write over HTTPS with the SQLite commit fsynced: {s['write_ms']:.1f} ms")
    print(served_bench.describe_gets(s))


if __name__ == "__main__":
    main()
