"""A Kubernetes API server for the lab, good enough for the real `kubectl`.

    from ciliumlab import Lab
    from ciliumlab.k8s.apiserver import make_app
    from aiohttp import web

    web.run_app(make_app(Lab(clock="wall"), token="s3cret"), host="127.0.0.1", port=6443)

Modules: `app` (routing, auth, errors), `handlers` (REST verbs), `discovery`, `openapi`,
`tables` (server-side printing), `watch`, `patch`, `strict` (unknown fields), `fieldselectors`,
`crds`, `resources`, `gate` (the lab lock), `streams` (exec/port-forward registration),
`exec_stream`, `tty`, `worker` (pods/exec), `portforward`, `spdy`, `httpwire` (pods/portforward).
The wire contract is `shared/spec/kubeapi/README.md`.
"""

from .app import CONTEXT, make_app
from .context import ApiContext
from .gate import LabGate
from .streams import EXEC_COMMANDS, PORT_FORWARD_TARGETS, STREAM_HANDLERS, StreamHandler

__all__ = ["CONTEXT", "EXEC_COMMANDS", "PORT_FORWARD_TARGETS", "STREAM_HANDLERS", "ApiContext", "LabGate",
           "StreamHandler", "make_app"]
