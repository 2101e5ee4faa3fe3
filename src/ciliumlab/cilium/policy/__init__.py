"""Cilium network policy engine: CNP/CCNP/NetworkPolicy -> per-identity verdicts.

Public API (see module docstrings for the why):
  PolicyConfig, PolicyRepository, EndpointPolicy, PolicyVerdict, PolicyRef, ImportResult,
  Decision, L7Policy, FQDNSelector, ServiceInfo, validate_crd, unknown_fields, sanitize.

Usage contract with the datapath: call `policy_for(identity)` per new connection (a dict hit
while nothing relevant changed) rather than holding an EndpointPolicy across policy or identity
changes; `lookup()` on the result is memoised. `PolicyVerdict.enforced` is True whenever policy
decided the verdict (enforced direction, or a deny/L7 entry in a non-default-deny direction).

`toServices` peers are resolved against the Services given to
`PolicyRepository.set_services([ServiceInfo(...)])` (see services.py for the semantics); the
control plane calls it whenever Services/EndpointSlices change, then re-reads `cidr_prefixes()`.

Not modelled (select nothing / ignored): fromGroups/toGroups, cidrGroupRef /
cidrGroupSelector, nodeSelector host policies, authentication, serverNames/TLS/listener
enforcement, Kafka request matching (generic key/value rules only), headerMatches secrets.
"""

from .crd import unknown_fields, validate_crd
from .endpoint_policy import EndpointPolicy
from .fqdn import FQDNSelector, match_pattern
from .l7 import L7Policy
from .repository import PolicyRepository, is_endpoint_identity
from .sanitize import agent_error, sanitize
from .services import ServiceInfo
from .types import (
    DROP_POLICY_DENIED,
    DROP_POLICY_DENY,
    MATCH_ALL,
    MATCH_L3_L4,
    MATCH_L3_ONLY,
    MATCH_L3_PROTO,
    MATCH_L4_ONLY,
    MATCH_NONE,
    MATCH_PROTO_ONLY,
    MATCH_TYPE_NAMES,
    VALID_MESSAGE,
    Decision,
    ImportResult,
    PolicyConfig,
    PolicyRef,
    PolicyVerdict,
)

__all__ = [
    "DROP_POLICY_DENIED", "DROP_POLICY_DENY", "MATCH_ALL", "MATCH_L3_L4", "MATCH_L3_ONLY", "MATCH_L3_PROTO",
    "MATCH_L4_ONLY", "MATCH_NONE", "MATCH_PROTO_ONLY", "MATCH_TYPE_NAMES", "VALID_MESSAGE", "Decision",
    "EndpointPolicy", "FQDNSelector", "ImportResult", "L7Policy", "PolicyConfig", "PolicyRef", "PolicyRepository",
    "PolicyVerdict", "ServiceInfo", "agent_error", "is_endpoint_identity", "match_pattern", "sanitize", "unknown_fields", "validate_crd",
]
