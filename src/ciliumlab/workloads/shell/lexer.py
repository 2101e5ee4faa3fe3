"""Shell lexer: source text → words (with quoting/expansion parts) and operators.

Only the POSIX subset the lab uses. ``$(…)`` and backtick bodies are kept as source text and
parsed when expanded, which keeps the lexer single-pass.
"""

from __future__ import annotations

from .tokens import EOF, Arith, CmdSub, Lit, Newline, Op, Param, Part, Token, Word

OPERATORS = ("&&", "||", ";;", ">>", "<<", ">&", "<&", "&>", ">|", "|", "&", ";", "(", ")", "<", ">")
SPECIAL_PARAMS = "?$#@*!-0123456789"
WORD_BREAK = " \t\n;&|()<>"


class ShellSyntaxError(Exception):
    pass


def _is_name_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def find_closing_paren(src: str, i: int) -> int:
    """Index of the ``)`` closing a ``$(`` whose body starts at ``i`` (quote-aware)."""
    depth = 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            i = j + 1
            continue
        if c == '"':
            i = _skip_double(src, i + 1)
            continue
        if c == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise ShellSyntaxError("unexpected EOF while looking for matching ``'")
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError("unexpected EOF while looking for matching `)'")


def _skip_double(src: str, i: int) -> int:
    """Index after the ``"`` closing a double-quoted string whose body starts at ``i``."""
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "$" and src.startswith("$(", i):
            i = find_closing_paren(src, i + 2) + 1
            continue
        if c == "`":
            j = src.find("`", i + 1)
            i = (j + 1) if j >= 0 else n
            continue
        i += 1
    raise ShellSyntaxError("unterminated quoted string")


class Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.pending_heredocs: list[tuple[str, bool, list[str]]] = []

    # -----------------------------------------------------------------------------------------
    def tokens(self) -> list[Token]:
        out: list[Token] = []
        while True:
            tok = self.next()
            out.append(tok)
            if isinstance(tok, EOF):
                return out

    def next(self) -> Token:
        src, n = self.src, len(self.src)
        while self.i < n:
            c = src[self.i]
            if c in " \t":
                self.i += 1
            elif c == "\\" and src.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                j = src.find("\n", self.i)
                self.i = n if j < 0 else j
            else:
                break
        if self.i >= n:
            return EOF()
        c = src[self.i]
        if c == "\n":
            self.i += 1
            self._read_heredoc_bodies()
            return Newline()
        for op in OPERATORS:
            if src.startswith(op, self.i):
                self.i += len(op)
                return Op(op)
        # IO number: digits immediately followed by < or >
        j = self.i
        while j < n and src[j].isdigit():
            j += 1
        if j > self.i and j < n and src[j] in "<>":
            fd = int(src[self.i:j])
            self.i = j
            for op in OPERATORS:
                if op[0] in "<>" and src.startswith(op, self.i):
                    self.i += len(op)
                    return Op(op, fd=fd)
        return self.read_word()

    # -----------------------------------------------------------------------------------------
    def read_word(self, stop: str = WORD_BREAK) -> Word:
        src, n = self.src, len(self.src)
        start = self.i
        parts: list[Part] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf)))
                buf.clear()

        while self.i < n:
            c = src[self.i]
            if c in stop or c in " \t":
                break
            if c == "\\":
                if self.i + 1 < n:
                    if src[self.i + 1] == "\n":
                        self.i += 2
                        continue
                    flush()
                    parts.append(Lit(src[self.i + 1], quoted=True))
                    self.i += 2
                else:
                    buf.append("\\")
                    self.i += 1
                continue
            if c == "'":
                j = src.find("'", self.i + 1)
                if j < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                flush()
                parts.append(Lit(src[self.i + 1:j], quoted=True))
                self.i = j + 1
                continue
            if c == '"':
                flush()
                end = _skip_double(src, self.i + 1)
                parts.extend(parse_double_quoted(src[self.i + 1:end - 1]))
                if end - self.i == 2:
                    parts.append(Lit("", quoted=True))
                self.i = end
                continue
            if c == "$" or c == "`":
                part, self.i = read_dollar(src, self.i, quoted=False)
                if part is None:
                    buf.append(c)
                    self.i += 1
                else:
                    flush()
                    parts.append(part)
                continue
            buf.append(c)
            self.i += 1
        flush()
        return Word(parts, src[start:self.i])

    # -----------------------------------------------------------------------------------------
    def add_heredoc(self, delim_word: Word, strip_tabs: bool, sink: list[str]) -> None:
        delim = "".join(p.text for p in delim_word.parts if isinstance(p, Lit))
        self.pending_heredocs.append((delim, delim_word.has_quotes, sink))

    def _read_heredoc_bodies(self) -> None:
        for delim, quoted, sink in self.pending_heredocs:
            lines: list[str] = []
            while self.i < len(self.src):
                j = self.src.find("\n", self.i)
                line = self.src[self.i:] if j < 0 else self.src[self.i:j]
                self.i = len(self.src) if j < 0 else j + 1
                if line == delim:
                    break
                lines.append(line + "\n")
            sink.append("".join(lines))
            sink.append("q" if quoted else "")
        self.pending_heredocs = []


def read_dollar(src: str, i: int, quoted: bool) -> tuple[Part | None, int]:
    """Parse a ``$…`` or backtick expansion at ``src[i]``; (None, i) if ``$`` is literal."""
    n = len(src)
    if src[i] == "`":
        j = i + 1
        body: list[str] = []
        while j < n and src[j] != "`":
            if src[j] == "\\" and j + 1 < n and src[j + 1] in "$`\\":
                body.append(src[j + 1])
                j += 2
                continue
            body.append(src[j])
            j += 1
        if j >= n:
            raise ShellSyntaxError("unexpected EOF while looking for matching ``'")
        return CmdSub("".join(body), quoted), j + 1
    if i + 1 >= n:
        return None, i
    c = src[i + 1]
    if src.startswith("$((", i):
        end = src.find("))", i + 3)
        # find the matching "))" taking nested parens into account
        depth, j = 0, i + 3
        while j < n:
            if src[j] == "(":
                depth += 1
            elif src[j] == ")":
                if depth == 0 and src.startswith("))", j):
                    end = j
                    break
                depth -= 1
            j += 1
        if end < 0:
            raise ShellSyntaxError("unexpected EOF while looking for matching `))'")
        return Arith(src[i + 3:end], quoted), end + 2
    if c == "(":
        end = find_closing_paren(src, i + 2)
        return CmdSub(src[i + 2:end], quoted), end + 1
    if c == "{":
        end = src.find("}", i + 2)
        if end < 0:
            raise ShellSyntaxError("bad substitution")
        return parse_brace_param(src[i + 2:end], quoted), end + 1
    if c in SPECIAL_PARAMS:
        return Param(c, quoted), i + 2
    if c.isalpha() or c == "_":
        j = i + 1
        while j < n and _is_name_char(src[j]):
            j += 1
        return Param(src[i + 1:j], quoted), j
    return None, i


def parse_brace_param(body: str, quoted: bool) -> Param:
    if body.startswith("#") and len(body) > 1:
        return Param(body[1:], quoted, op="#len")
    j = 0
    if body and body[0] in SPECIAL_PARAMS:
        j = 1
    else:
        while j < len(body) and _is_name_char(body[j]):
            j += 1
    name, rest = body[:j], body[j:]
    if not name:
        raise ShellSyntaxError(f"${{{body}}}: bad substitution")
    if not rest:
        return Param(name, quoted)
    for op in (":-", ":=", ":+", "-", "=", "+"):
        if rest.startswith(op):
            arg_src = rest[len(op):]
            arg = Word(parse_double_quoted(arg_src), arg_src) if quoted else Lexer(arg_src).read_word(stop="")
            return Param(name, quoted, op=op, arg=arg)
    raise ShellSyntaxError(f"${{{body}}}: bad substitution")


def parse_double_quoted(body: str) -> list[Part]:
    """Parts of the inside of ``"…"``: literal text plus ``$`` / backtick expansions."""
    parts: list[Part] = []
    buf: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n and body[i + 1] in '$`"\\\n':
            if body[i + 1] != "\n":
                buf.append(body[i + 1])
            i += 2
            continue
        if c in "$`":
            part, j = read_dollar(body, i, quoted=True)
            if part is not None:
                if buf:
                    parts.append(Lit("".join(buf), quoted=True))
                    buf = []
                parts.append(part)
                i = j
                continue
        buf.append(c)
        i += 1
    if buf:
        parts.append(Lit("".join(buf), quoted=True))
    return parts
