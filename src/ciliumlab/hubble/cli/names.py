"""Name tables the CLI prints or accepts: monitor message types, trace observation points, human
drop reasons, reserved identities, enum names.

They live next to the printer (rather than being shared) because they are the *CLI's* view:
e.g. the TYPE column shows the monitor's human drop string of `event_type.sub_type`, not the
`DropReason` enum name the JSON carries.
"""

from __future__ import annotations

# pkg/monitor/api MessageTypeNames (`--type NAME`)
MESSAGE_TYPES = {"drop": 1, "debug": 2, "capture": 3, "trace": 4, "policy-verdict": 5, "trace-sock": 7,
                 "recorder": 8, "l7": 129, "agent": 130}
TYPE_DROP, TYPE_CAPTURE, TYPE_TRACE, TYPE_POLICY_VERDICT, TYPE_TRACE_SOCK, TYPE_AGENT = 1, 3, 4, 5, 7, 130

# monitor trace sub-type -> observation point name (TYPE column, `--type trace:NAME`)
TRACE_POINTS = {0: "to-endpoint", 1: "to-proxy", 2: "to-host", 3: "to-stack", 4: "to-overlay",
                5: "from-endpoint", 6: "from-proxy", 7: "from-host", 8: "from-stack", 9: "from-overlay",
                10: "from-network", 11: "to-network", 12: "from-crypto", 13: "to-crypto"}

# `--type agent:NAME` -> monitor agent notification sub-type
AGENT_SUBTYPES = {"unspecified": 0, "message": 1, "agent-started": 2, "endpoint-regenerate-success": 3,
                  "endpoint-regenerate-failure": 4, "policy-updated": 5, "policy-deleted": 6,
                  "endpoint-created": 7, "endpoint-deleted": 8, "ipcache-upserted": 9, "ipcache-deleted": 10,
                  "service-upserted": 11, "service-deleted": 12}

# pkg/monitor/api drop reason strings (metrics-export.md table (c))
DROP_REASON_TEXT = {
    0: "Success", 2: "Invalid packet", 3: "Interface", 4: "Interface Decrypted",
    5: "LB, sock cgroup: No backend slot entry found", 6: "LB, sock cgroup: No backend entry found",
    7: "LB, sock cgroup: Reverse entry update failed", 8: "LB, sock cgroup: Reverse entry stale",
    9: "Fragmented packet", 10: "Fragmented packet entry update failed",
    11: "Missed tail call to custom program", 12: "Interface Decrypting", 13: "Interface Encrypting",
    14: "LB: sock cgroup: Reverse entry delete succeeded", 15: "MTU error message",
    130: "Invalid source mac", 131: "Invalid destination mac", 132: "Invalid source ip", 133: "Policy denied",
    134: "Invalid packet", 135: "CT: Truncated or invalid header", 136: "Fragmentation needed",
    137: "CT: Unknown L4 protocol", 138: "CT: Can't create entry from packet", 139: "Unsupported L3 protocol",
    140: "Missed tail call", 141: "Error writing to packet", 142: "Unknown L4 protocol",
    143: "Unknown ICMPv4 code", 144: "Unknown ICMPv4 type", 145: "Unknown ICMPv6 code",
    146: "Unknown ICMPv6 type", 147: "Error retrieving tunnel key", 148: "Error retrieving tunnel options",
    149: "Invalid Geneve option", 150: "Unknown L3 target address", 151: "Stale or unroutable IP",
    152: "No matching local container found", 153: "Error while correcting L3 checksum",
    154: "Error while correcting L4 checksum", 155: "CT: Map insertion failed",
    156: "Invalid IPv6 extension header", 157: "IP fragmentation not supported", 158: "Service backend not found",
    160: "No tunnel/encapsulation endpoint (datapath BUG!)", 161: "NAT 46/64 not enabled",
    162: "Reached EDT rate-limiting drop horizon", 163: "Unknown connection tracking state",
    164: "Local host is unreachable", 165: "No configuration available to perform policy decision",
    166: "Unsupported L2 protocol", 167: "No mapping for NAT masquerade",
    168: "Unsupported protocol for NAT masquerade", 169: "FIB lookup failed",
    170: "Encapsulation traffic is prohibited", 171: "Invalid identity", 172: "Unknown sender",
    173: "NAT not needed", 174: "Is a ClusterIP", 175: "First logical datagram fragment not found",
    176: "Forbidden ICMPv6 message", 177: "Denied by LB src range check", 178: "Socket lookup failed",
    179: "Socket assign failed", 180: "Proxy redirection not supported for protocol",
    181: "Policy denied by denylist", 182: "VLAN traffic disallowed by VLAN filter", 183: "Incorrect VNI from VTEP",
    184: "Failed to update or lookup TC buffer", 185: "No SID was found for the IP address",
    186: "SRv6 state was removed during tail call", 187: "L3 translation from IPv4 to IPv6 failed (NAT46)",
    188: "L3 translation from IPv6 to IPv4 failed (NAT64)", 189: "Authentication required",
    190: "No conntrack map found", 191: "No nat map found", 192: "Invalid ClusterID",
    193: "Unsupported packet protocol for DSR encapsulation", 194: "No egress gateway found",
    195: "Traffic is unencrypted", 196: "TTL exceeded", 197: "No node ID found", 198: "Rate limited",
    199: "IGMP handled", 200: "IGMP subscribed", 201: "Multicast handled", 202: "Host datapath not ready",
    203: "Endpoint policy program not available", 204: "No Egress IP configured", 205: "Punt to proxy",
}

# flow.proto DropReason enum names (`--drop-reason-desc`)
DROP_REASON_ENUM = [
    "DROP_REASON_UNKNOWN", "INVALID_SOURCE_MAC", "INVALID_DESTINATION_MAC", "INVALID_SOURCE_IP", "POLICY_DENIED",
    "INVALID_PACKET_DROPPED", "CT_TRUNCATED_OR_INVALID_HEADER", "CT_MISSING_TCP_ACK_FLAG", "CT_UNKNOWN_L4_PROTOCOL",
    "CT_CANNOT_CREATE_ENTRY_FROM_PACKET", "UNSUPPORTED_L3_PROTOCOL", "MISSED_TAIL_CALL", "ERROR_WRITING_TO_PACKET",
    "UNKNOWN_L4_PROTOCOL", "UNKNOWN_ICMPV4_CODE", "UNKNOWN_ICMPV4_TYPE", "UNKNOWN_ICMPV6_CODE",
    "UNKNOWN_ICMPV6_TYPE", "ERROR_RETRIEVING_TUNNEL_KEY", "ERROR_RETRIEVING_TUNNEL_OPTIONS",
    "INVALID_GENEVE_OPTION", "UNKNOWN_L3_TARGET_ADDRESS", "STALE_OR_UNROUTABLE_IP",
    "NO_MATCHING_LOCAL_CONTAINER_FOUND", "ERROR_WHILE_CORRECTING_L3_CHECKSUM", "ERROR_WHILE_CORRECTING_L4_CHECKSUM",
    "CT_MAP_INSERTION_FAILED", "INVALID_IPV6_EXTENSION_HEADER", "IP_FRAGMENTATION_NOT_SUPPORTED",
    "SERVICE_BACKEND_NOT_FOUND", "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT", "FAILED_TO_INSERT_INTO_PROXYMAP",
    "REACHED_EDT_RATE_LIMITING_DROP_HORIZON", "UNKNOWN_CONNECTION_TRACKING_STATE", "LOCAL_HOST_IS_UNREACHABLE",
    "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION", "UNSUPPORTED_L2_PROTOCOL",
    "NO_MAPPING_FOR_NAT_MASQUERADE", "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE", "FIB_LOOKUP_FAILED",
    "ENCAPSULATION_TRAFFIC_IS_PROHIBITED", "INVALID_IDENTITY", "UNKNOWN_SENDER", "NAT_NOT_NEEDED",
    "IS_A_CLUSTERIP", "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", "FORBIDDEN_ICMPV6_MESSAGE",
    "DENIED_BY_LB_SRC_RANGE_CHECK", "SOCKET_LOOKUP_FAILED", "SOCKET_ASSIGN_FAILED",
    "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL", "POLICY_DENY", "VLAN_FILTERED", "INVALID_VNI",
    "INVALID_TC_BUFFER", "NO_SID", "MISSING_SRV6_STATE", "NAT46", "NAT64", "AUTH_REQUIRED", "CT_NO_MAP_FOUND",
    "SNAT_NO_MAP_FOUND", "INVALID_CLUSTER_ID", "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP", "NO_EGRESS_GATEWAY",
    "UNENCRYPTED_TRAFFIC", "TTL_EXCEEDED", "NO_NODE_ID", "DROP_RATE_LIMITED", "IGMP_HANDLED", "IGMP_SUBSCRIBED",
    "MULTICAST_HANDLED", "DROP_HOST_NOT_READY", "DROP_EP_NOT_READY", "DROP_NO_EGRESS_IP", "DROP_PUNT_PROXY",
]

VERDICTS = ["VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"]

# pkg/monitor/api PolicyMatchType.String()
POLICY_MATCH_TYPES = {0: "none", 1: "L3-Only", 2: "L3-L4", 3: "L4-Only", 4: "all", 5: "L3-Proto", 6: "Proto-Only"}

SOCK_XLATE_TEXT = {"SOCK_XLATE_POINT_PRE_DIRECTION_FWD": "pre-xlate-fwd",
                   "SOCK_XLATE_POINT_POST_DIRECTION_FWD": "post-xlate-fwd",
                   "SOCK_XLATE_POINT_PRE_DIRECTION_REV": "pre-xlate-rev",
                   "SOCK_XLATE_POINT_POST_DIRECTION_REV": "post-xlate-rev"}
SOCK_XLATE_ENUM = ["SOCK_XLATE_POINT_UNKNOWN", "SOCK_XLATE_POINT_PRE_DIRECTION_FWD",
                   "SOCK_XLATE_POINT_POST_DIRECTION_FWD", "SOCK_XLATE_POINT_PRE_DIRECTION_REV",
                   "SOCK_XLATE_POINT_POST_DIRECTION_REV"]
TRAFFIC_DIRECTIONS = ["TRAFFIC_DIRECTION_UNKNOWN", "INGRESS", "EGRESS"]

# reserved numeric identities and their printed names; 0 prints as `(unknown)`
RESERVED_IDENTITY_NAMES = {0: "unknown", 1: "host", 2: "world", 3: "unmanaged", 4: "health", 5: "init",
                           6: "remote-node", 7: "kube-apiserver", 8: "ingress", 9: "world-ipv4",
                           10: "world-ipv6"}
# names `--identity` accepts (identity.GetReservedID), in identity order
RESERVED_IDENTITIES = {"host": 1, "world": 2, "unmanaged": 3, "health": 4, "init": 5, "remote-node": 6,
                       "kube-apiserver": 7, "ingress": 8, "world-ipv4": 9, "world-ipv6": 10,
                       "overlay-to-encrypt": 11}


def drop_reason_text(sub_type: int) -> str:
    """TYPE column of a drop: `api.DropReason(uint8(sub_type))` (extended error always 0)."""
    code = sub_type & 0xFF
    text = DROP_REASON_TEXT.get(code)
    return text if text is not None else f"{code}, 0"


def trace_point_text(sub_type: int) -> str:
    code = sub_type & 0xFF
    return TRACE_POINTS.get(code, str(code))


def identity_text(identity: int) -> str:
    """`(ID:n)` or `(reserved-name)` as the compact printer shows an endpoint's identity."""
    name = RESERVED_IDENTITY_NAMES.get(identity)
    return f"({name})" if name is not None else f"(ID:{identity})"
