"""The `hubble` CLI: flags → GetFlowsRequest, printers, `--input-file`, click commands.

Public API:
    hubble                the click group (the lead registers it into the main CLI)
    parse_observe         `hubble observe` argv → ObserveOptions (request + printing options)
    ObserveOptions        what observe decided; `.request` is a FlowsRequest
    Printer               compact / dict / table / json(pb) writer for GetFlowsResponse events
    run_observe           stream a FlowSource's responses for ObserveOptions through a Printer
    InputFileSource       FlowSource over `-o json` / exporter lines (file or stdin)
    HubbleError           an error whose text is the real CLI's message
"""

from __future__ import annotations

from .commands import hubble, run_observe
from .errors import HubbleError
from .input_file import InputFileSource
from .observe_args import ObserveOptions, parse_observe
from .printer import Printer

__all__ = ["HubbleError", "InputFileSource", "ObserveOptions", "Printer", "hubble", "parse_observe", "run_observe"]
