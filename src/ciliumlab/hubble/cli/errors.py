"""The one error type of the `hubble` CLI layer.

The real CLI prints a failing command's error as the bare message on stderr and exits 1, so the
message text *is* the interface: every `HubbleError` carries exactly the wording hubble v1.19
uses, and the click layer prints it unchanged.
"""

from __future__ import annotations


class HubbleError(Exception):
    """A user-facing error whose `str()` is the real CLI's message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
