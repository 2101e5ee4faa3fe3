"""Go's `text/tabwriter` (flags 0, pad char ' '), the column aligner behind every table hubble and cilium-dbg print.

Cells are tab-terminated; the text after a line's last tab is not part of any column. A column's
width is computed per *block* of consecutive lines that have that column, and a line with no tab
at all flushes (ends every block) - both matter for byte-identical tables.
"""

from __future__ import annotations


class TabWriter:
    """Buffer text, align on `flush()`; `NewWriter(out, minwidth, tabwidth=0, padding, ' ', 0)`."""

    def __init__(self, minwidth: int = 2, padding: int = 3) -> None:
        self.minwidth = minwidth
        self.padding = padding
        self._pending = ""
        self._lines: list[list[str]] = []
        self._out: list[str] = []

    def write(self, text: str) -> None:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            cells = line.split("\t")
            self._lines.append(cells)
            if len(cells) == 1:
                self._flush_lines(newline_last=True)

    def flush(self) -> str:
        """Align everything written so far and return the output (trailing partial line kept)."""
        if self._pending:
            self._lines.append(self._pending.split("\t"))
            self._pending = ""
            self._flush_lines(newline_last=False)
        else:
            self._flush_lines(newline_last=True)
        out, self._out = "".join(self._out), []
        return out

    def _flush_lines(self, newline_last: bool) -> None:
        lines, self._lines = self._lines, []
        self._widths: list[int] = []
        self._format(lines, 0, len(lines), newline_last)

    def _format(self, lines: list[list[str]], line0: int, line1: int, newline_last: bool) -> None:
        column = len(self._widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._write_lines(lines, line0, this, newline_last)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self.padding)
                this += 1
            self._widths.append(width)
            self._format(lines, line0, this, newline_last)
            self._widths.pop()
            line0 = this
        self._write_lines(lines, line0, line1, newline_last)

    def _write_lines(self, lines: list[list[str]], line0: int, line1: int, newline_last: bool) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts = []
            for j, cell in enumerate(cells):
                parts.append(cell)
                if j < len(self._widths):
                    parts.append(" " * (self._widths[j] - len(cell)))
            self._out.append("".join(parts))
            if i + 1 < len(lines) or newline_last:
                self._out.append("\n")
