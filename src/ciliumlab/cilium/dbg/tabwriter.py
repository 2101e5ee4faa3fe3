"""cilium-dbg's tables: Go's `text/tabwriter.NewWriter(w, 5, 0, 3, ' ', 0)` writing to a stream.

The alignment itself is the shared `ciliumlab.tabwriter` (the same Go algorithm hubble uses);
this adapter only binds cilium-dbg's settings and an output stream.
"""

from __future__ import annotations

from ...tabwriter import TabWriter as _Aligner


class TabWriter:
    def __init__(self, out, minwidth: int = 5, padding: int = 3) -> None:
        self._out = out
        self._aligner = _Aligner(minwidth, padding)

    def write(self, text: str) -> None:
        self._aligner.write(text)

    def flush(self) -> None:
        text = self._aligner.flush()
        if text:
            self._out.write(text)


def render(rows: list[str], minwidth: int = 5, padding: int = 3) -> str:
    """Lay out already tab-separated lines (each ending in "\\n" or not) and return the text."""
    aligner = _Aligner(minwidth, padding)
    for row in rows:
        aligner.write(row if row.endswith("\n") else row + "\n")
    return aligner.flush()
