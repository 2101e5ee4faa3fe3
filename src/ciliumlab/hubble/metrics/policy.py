"""`policy`: hubble_policy_verdicts_total{direction, match, action} from policy-verdict events
(and, as in recent Cilium, L7 access-log events with match="l7/<protocol>")."""

from __future__ import annotations

from .api import ACCESS_LOG, EMPTY, POLICY_VERDICT, Handler, verdict

HOST_IDENTITY = 1

# monitorAPI.PolicyMatchType.String(), lower-cased
MATCH_TYPES = {0: "none", 1: "l3-only", 2: "l3-l4", 3: "l4-only", 4: "all", 5: "l3-proto", 6: "proto-only"}


def _direction(flow: dict) -> str:
    return flow.get("traffic_direction", "TRAFFIC_DIRECTION_UNKNOWN").lower()


class PolicyHandler(Handler):
    name = "policy"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.verdicts = self.counter(registry, "policy_verdicts_total", "Total number of Cilium network policy verdicts",
                                     ("direction", "match", "action") + self.context.label_names)

    def process(self, flow: dict) -> None:
        et = flow.get("event_type")
        t = et.get("type", 0) if et else 0
        if t == POLICY_VERDICT:
            # the host may reach any local endpoint: its verdicts are not counted
            if flow.get("source", EMPTY).get("identity", 0) == HOST_IDENTITY:
                return
            match = MATCH_TYPES.get(flow.get("policy_match_type", 0), "unknown")
        elif t == ACCESS_LOG:
            l7 = flow.get("l7") or EMPTY
            sub = "dns" if "dns" in l7 else "http" if "http" in l7 else "kafka" if "kafka" in l7 else ""
            match = "l7/" + sub
        else:
            return
        key = (_direction(flow), match, verdict(flow).lower())
        self.verdicts.inc(key + self._ctx(flow) if self._ctx else key)
