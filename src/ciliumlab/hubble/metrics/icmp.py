"""`icmp`: hubble_icmp_total{family, type}; type is gopacket's ICMPv4/v6 TypeCode string."""

from __future__ import annotations

from .api import Handler

_DEST_UNREACH_V4 = ("Net", "Host", "Protocol", "Port", "FragmentationNeeded", "SourceRoutingFailed", "NetUnknown",
                    "HostUnknown", "SourceIsolated", "NetAdminProhibited", "HostAdminProhibited", "NetTOS",
                    "HostTOS", "CommAdminProhibited", "HostPrecedence", "PrecedenceCutoff")

# type -> (name, {code: code name} or None when the type has no code table)
ICMPV4_TYPES: dict[int, tuple[str, dict[int, str] | None]] = {
    0: ("EchoReply", None),
    3: ("DestinationUnreachable", dict(enumerate(_DEST_UNREACH_V4))),
    4: ("SourceQuench", None),
    5: ("Redirect", {0: "Net", 1: "Host", 2: "TOS+Net", 3: "TOS+Host"}),
    8: ("EchoRequest", None),
    9: ("RouterAdvertisement", None),
    10: ("RouterSolicitation", None),
    11: ("TimeExceeded", {0: "TTLExceeded", 1: "FragmentReassemblyTimeExceeded"}),
    12: ("ParameterProblem", {0: "PointerIndicatesError", 1: "MissingOption", 2: "BadLength"}),
    13: ("TimestampRequest", None),
    14: ("TimestampReply", None),
    15: ("InfoRequest", None),
    16: ("InfoReply", None),
    17: ("AddressMaskRequest", None),
    18: ("AddressMaskReply", None),
}

ICMPV6_TYPES: dict[int, tuple[str, dict[int, str] | None]] = {
    1: ("DestinationUnreachable", {0: "NoRouteToDst", 1: "AdminProhibited", 2: "BeyondScopeOfSrc",
                                   3: "AddressUnreachable", 4: "PortUnreachable", 5: "SrcAddressFailedPolicy",
                                   6: "RejectRouteToDst"}),
    2: ("PacketTooBig", None),
    3: ("TimeExceeded", {0: "HopLimitExceeded", 1: "FragmentReassemblyTimeExceeded"}),
    4: ("ParameterProblem", {0: "ErroneousHeaderField", 1: "UnrecognizedNextHeader", 2: "UnrecognizedNextHeader"}),
    128: ("EchoRequest", None),
    129: ("EchoReply", None),
    133: ("RouterSolicitation", None),
    134: ("RouterAdvertisement", None),
    135: ("NeighborSolicitation", None),
    136: ("NeighborAdvertisement", None),
    137: ("Redirect", None),
}


def type_code(table: dict[int, tuple[str, dict[int, str] | None]], icmp: dict) -> str:
    """gopacket's ICMPv4TypeCode/ICMPv6TypeCode String() (type and code are uint8)."""
    t, c = icmp.get("type", 0) & 0xFF, icmp.get("code", 0) & 0xFF
    info = table.get(t)
    if info is None:
        return f"{t}({c})"
    name, codes = info
    if codes is None:
        return name if c == 0 else f"{name}(Code: {c})"
    code_name = codes.get(c)
    return f"{name}({code_name})" if code_name is not None else f"{name}(Code: {c})"


class IcmpHandler(Handler):
    name = "icmp"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        self.icmp = self.counter(registry, "icmp_total", "Number of ICMP messages",
                                 ("family", "type") + self.context.label_names)

    def process(self, flow: dict) -> None:
        l4 = flow.get("l4")
        if l4 is None:
            return
        v4, v6 = l4.get("ICMPv4"), l4.get("ICMPv6")
        if v4 is None and v6 is None:
            return
        ctx = self._ctx(flow) if self._ctx else ()
        if v4 is not None:
            self.icmp.inc(("IPv4", type_code(ICMPV4_TYPES, v4)) + ctx)
        if v6 is not None:
            # Cilium labels ICMPv6 messages family="IPv4" too (copy-paste in icmp/handler.go)
            self.icmp.inc(("IPv4", type_code(ICMPV6_TYPES, v6)) + ctx)
