"""Wire-compatible Hubble gRPC: the real `hubble` CLI, Hubble UI (via its proxy) and
hubble-relay can talk to the lab, and the lab's CLI can talk to a real Hubble.

    protos/    flow/flow.proto, observer/observer.proto, peer/peer.proto, relay/relay.proto
               written from shared/spec/hubble/flow-api.md (Cilium's paths, packages, numbers)
    gen/       the generated *_pb2 / *_pb2_grpc modules (committed; `python scripts/gen_protos.py`)
    convert    flow dict <-> flow.Flow, FlowFilter, GetFlowsRequest <-> FlowsRequest, field masks
    server     serve_observer(source, "127.0.0.1:0") / serve_peer(nodes, ...), with grpc Health
    client     connect("host:port" | "tls://host:port" | "unix:///path") -> FlowSource
"""

from .client import HubbleClient, InvalidArgumentError, RPCError, connect
from .convert import (
    apply_field_mask,
    filter_to_proto,
    flow_to_proto,
    proto_to_filter,
    proto_to_flow,
    proto_to_request,
    proto_to_response,
    request_to_proto,
    response_to_proto,
    validate_field_mask,
)
from .server import DEFAULT_VERSION, ServerTLS, serve_observer, serve_peer

__all__ = [
    "DEFAULT_VERSION",
    "HubbleClient",
    "InvalidArgumentError",
    "RPCError",
    "ServerTLS",
    "apply_field_mask",
    "connect",
    "filter_to_proto",
    "flow_to_proto",
    "proto_to_filter",
    "proto_to_flow",
    "proto_to_request",
    "proto_to_response",
    "request_to_proto",
    "response_to_proto",
    "serve_observer",
    "serve_peer",
    "validate_field_mask",
]
