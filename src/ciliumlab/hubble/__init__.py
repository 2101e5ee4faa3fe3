"""Hubble: the datapath's monitor events turned into Flows, kept per node, merged by a relay,
filtered, printed and served exactly like Cilium's Hubble.

The one contract every part shares: a **flow is a plain dict shaped exactly like the `flow`
object of `hubble observe -o json`** — proto field names as keys, in .proto declaration order,
protojson conventions (enums by name, uint64 as strings, timestamps RFC3339 with nanoseconds,
empty/zero fields omitted). Filters read these dicts, printers print them, the gRPC layer
converts them to and from protobuf messages, exporters write them.

Modules:
    types      FlowsRequest and other request/response shapes shared by every layer
    flow       monitor event (+ what the agent knows) -> flow dict, Summary strings
    observer   per-node ring buffer and the local observer (number/first/since/until/follow)
    relay      merges the nodes' observers by time, reports unavailable nodes
    filters/   FlowFilter dicts -> compiled predicates (one tiny builder per filter kind)
    cli/       the `hubble` CLI: flags -> request, printers (compact/dict/table/json)
    grpc/      wire-compatible Observer/Peer/Health servers and the client
"""
