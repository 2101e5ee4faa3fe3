"""Garbage collector: delete objects whose owners (by ownerReferences uid) are all gone.

This cascades Deployment -> ReplicaSet -> Pod, Service -> EndpointSlice, and anything the Cilium
agent creates with an ownerReference (CiliumEndpoint -> Pod). Background propagation: dependents
go on the next sync after their owner.
"""

from __future__ import annotations

import copy

from . import Controller


class GarbageCollector(Controller):
    name = "garbage-collector"

    def sync(self) -> None:
        uids = {o["metadata"].get("uid") for o in self.store}
        for obj in self.store:
            refs = obj["metadata"].get("ownerReferences") or []
            if not refs:
                continue
            alive = [r for r in refs if r.get("uid") in uids]
            if not alive:
                self.store.delete(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
            elif len(alive) != len(refs):
                new = copy.deepcopy(obj)
                new["metadata"]["ownerReferences"] = alive
                self.store.update(new)
