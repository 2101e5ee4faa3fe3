"""Go's `text/tabwriter` as cilium-dbg uses it: `tabwriter.NewWriter(w, 5, 0, 3, ' ', 0)`.

Text is buffered and laid out on `flush()`: cells are tab-terminated, the text after a line's
last tab is not part of any column. A column's width is computed per *column block* (the run
of consecutive lines that have a terminated cell in that column): max(cell) + padding, at least
`minwidth`. This reproduces Go's layout exactly, trailing padding included.
"""

from __future__ import annotations


class TabWriter:
    def __init__(self, out, minwidth: int = 5, padding: int = 3) -> None:
        self._out = out
        self._minwidth = minwidth
        self._padding = padding
        self._buf: list[str] = []

    def write(self, text: str) -> None:
        self._buf.append(text)

    def flush(self) -> None:
        text = "".join(self._buf)
        self._buf.clear()
        if not text:
            return
        trailing_newline = text.endswith("\n")
        raw = text[:-1].split("\n") if trailing_newline else text.split("\n")
        lines = [line.split("\t") for line in raw]
        parts: list[str] = []
        self._format(lines, parts, [], 0, len(lines))
        rendered = "".join(parts)
        if not trailing_newline:
            rendered = rendered[:-1]
        self._out.write(rendered)

    def _format(self, lines: list[list[str]], parts: list[str], widths: list[int], line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._write_lines(lines, parts, widths, line0, this)
            line0 = this
            width = self._minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self._padding)
                this += 1
            self._format(lines, parts, [*widths, width], line0, this)
            line0 = this
        self._write_lines(lines, parts, widths, line0, line1)

    @staticmethod
    def _write_lines(lines: list[list[str]], parts: list[str], widths: list[int], line0: int, line1: int) -> None:
        for cells in lines[line0:line1]:
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell.ljust(widths[j]))
                else:
                    parts.append(cell)
            parts.append("\n")


def render(rows: list[str], minwidth: int = 5, padding: int = 3) -> str:
    """Lay out already tab-separated lines (each ending in "\\n" or not) and return the text."""
    buf: list[str] = []

    class _Sink:
        def write(self, text: str) -> None:
            buf.append(text)

    w = TabWriter(_Sink(), minwidth, padding)
    for row in rows:
        w.write(row if row.endswith("\n") else row + "\n")
    w.flush()
    return "".join(buf)
