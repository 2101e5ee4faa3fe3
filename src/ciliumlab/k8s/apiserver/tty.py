"""The pty a `kubectl exec -t` session gets: canonical-mode line discipline.

kubectl puts the user's terminal in raw mode and sends every keystroke on channel 0, so the
"container side" must do what a Linux pty in cooked mode does: echo (`ECHO`, `ECHOCTL` shows
Ctrl-C as `^C`), erase (DEL/BS, Ctrl-U, Ctrl-W), complete a line on Enter (`ICRNL`), turn
Ctrl-C into an interrupt and Ctrl-D on an empty line into end-of-file, and translate output
`\\n` to `\\r\\n` (`ONLCR`). Escape sequences (arrow keys) are swallowed — there is no readline.
"""

from __future__ import annotations

from dataclasses import dataclass

INTR = 0x03  # Ctrl-C
EOF = 0x04  # Ctrl-D
ERASE = (0x7F, 0x08)
KILL = 0x15  # Ctrl-U
WERASE = 0x17  # Ctrl-W
ESC = 0x1B


@dataclass
class TtyEvent:
    kind: str  # "line" (text without the newline), "intr", "eof"
    text: str = ""


class LineDiscipline:
    """Feed raw keystrokes; get back what to echo and the completed events."""

    def __init__(self) -> None:
        self._line = bytearray()
        self._esc = 0  # 0: normal, 1: after ESC, 2: inside a CSI sequence

    @property
    def pending(self) -> str:
        return self._line.decode("utf-8", "replace")

    def feed(self, data: bytes) -> tuple[bytes, list[TtyEvent]]:
        echo = bytearray()
        events: list[TtyEvent] = []
        for b in data:
            if self._esc == 1:
                self._esc = 2 if b in (ord("["), ord("O")) else 0
                continue
            if self._esc == 2:
                if 0x40 <= b <= 0x7E:
                    self._esc = 0
                continue
            if b == ESC:
                self._esc = 1
            elif b in (0x0D, 0x0A):
                echo += b"\r\n"
                events.append(TtyEvent("line", self._line.decode("utf-8", "replace")))
                self._line.clear()
            elif b == INTR:
                echo += b"^C"
                self._line.clear()
                events.append(TtyEvent("intr"))
            elif b == EOF:
                if not self._line:
                    events.append(TtyEvent("eof"))
            elif b in ERASE:
                if self._line:
                    self._erase_char(echo)
            elif b == KILL:
                while self._line:
                    self._erase_char(echo)
            elif b == WERASE:
                while self._line and self._line[-1:] == b" ":
                    self._erase_char(echo)
                while self._line and self._line[-1:] != b" ":
                    self._erase_char(echo)
            elif b == 0x09 or b >= 0x20:
                self._line.append(b)
                echo.append(b)
            # other control characters are ignored
        return bytes(echo), events

    def _erase_char(self, echo: bytearray) -> None:
        # drop a whole UTF-8 sequence (continuation bytes are 10xxxxxx)
        while self._line and (self._line[-1] & 0xC0) == 0x80:
            self._line.pop()
        if self._line:
            self._line.pop()
        echo += b"\b \b"


def onlcr(text: str) -> str:
    """Output post-processing of a pty: every `\\n` reaches the terminal as `\\r\\n`."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
