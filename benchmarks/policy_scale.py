"""Policy computation at scale: 10,000 pods / 1,000 CNPs, a one-policy update, verdict lookups.

The pods are spread over 50 namespaces, 40 apps and 2 tiers, plus a pod-template-hash that
Cilium's label filter ignores, so 10,000 pods collapse to 4,000 identities as in a cluster;
and each CNP selects one app in one namespace and allows two peer apps on two ports.
"""

from __future__ import annotations

import time

from ciliumlab.cilium.identity import RESERVED_LABELS
from ciliumlab.cilium.labels import pod_identity_labels
from ciliumlab.cilium.policy import PolicyConfig, PolicyRepository

NAMESPACES, APPS, PODS, POLICIES = 50, 40, 10_000, 1_000


def cnp(i: int) -> dict:
    ns = f"ns-{i % NAMESPACES}"
    return {
        "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
        "metadata": {"name": f"policy-{i}", "namespace": ns, "uid": f"uid-{i}", "resourceVersion": "1",
                     "generation": 1},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": f"app-{i % APPS}"}},
            "ingress": [{"fromEndpoints": [{"matchLabels": {"app": f"app-{(i + 1) % APPS}"}},
                                           {"matchLabels": {"app": f"app-{(i + 7) % APPS}", "tier": "web"}}],
                         "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}, {"port": "8080", "protocol": "TCP"}]}]}],
            "egress": [{"toEndpoints": [{"matchLabels": {"app": f"app-{(i + 3) % APPS}"}}]}],
        },
    }


def build() -> tuple[PolicyRepository, list[int]]:
    repo = PolicyRepository(PolicyConfig())
    for ident, labels in RESERVED_LABELS.items():
        repo.set_identity(ident, labels)
    ids: dict = {}
    pod_ids = []
    for p in range(PODS):
        ns = f"ns-{p % NAMESPACES}"
        labels = pod_identity_labels({"app": f"app-{(p // NAMESPACES) % APPS}", "tier": "web" if p % 3 else "db",
                                      "pod-template-hash": f"h{p % 5}"}, ns, {"kubernetes.io/metadata.name": ns})
        if labels not in ids:
            ids[labels] = 256 + len(ids)
            repo.set_identity(ids[labels], labels)
        pod_ids.append(ids[labels])
    return repo, sorted(set(pod_ids))


def run() -> dict[str, float]:
    repo, identities = build()
    t0 = time.perf_counter()
    for i in range(POLICIES):
        repo.upsert(cnp(i))
    for ident in identities:
        repo.policy_for(ident)
    compute = time.perf_counter() - t0

    changed = cnp(7)
    changed["metadata"]["generation"] = 2
    changed["spec"]["ingress"][0]["toPorts"][0]["ports"].append({"port": "9090", "protocol": "TCP"})
    t0 = time.perf_counter()
    repo.upsert(changed)
    for ident in identities:
        repo.policy_for(ident)
    update = time.perf_counter() - t0

    policy = repo.policy_for(identities[0])
    peers = identities[:64]
    keys = [(peers[i % len(peers)], 80 if i % 2 else 8080) for i in range(1024)]
    lookup = policy.lookup
    for peer, port in keys:  # warm the per-endpoint map, as the datapath would have it
        lookup("ingress", peer, 6, port)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        for peer, port in keys:
            lookup("ingress", peer, 6, port)
        n += len(keys)
    lookups = n / (time.perf_counter() - t0)
    return {"identities": len(identities), "compute_s": compute, "update_ms": update * 1000, "lookups_per_s": lookups}
