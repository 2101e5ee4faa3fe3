"""POSIX BRE/ERE → Python ``re`` translation (grep, sed).

Only what differs matters here: in a BRE ``\\( \\) \\{ \\} \\| \\+ \\?`` are the operators and the
bare characters are literals; bracket expressions may hold ``[:class:]`` names.
"""

from __future__ import annotations

import re

CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "print": r" -~", "graph": r"!-~", "cntrl": r"\x00-\x1f\x7f", "word": r"\w",
}


def to_python(pattern: str, extended: bool) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            j = i + 1
            body: list[str] = []
            if j < n and pattern[j] == "^":
                body.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                body.append(r"\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    k = pattern.find(":]", j)
                    if k > 0:
                        body.append(CLASSES.get(pattern[j + 2:k], ""))
                        j = k + 2
                        continue
                ch = pattern[j]
                body.append("\\\\" if ch == "\\" else ("\\[" if ch == "[" else ch))
                j += 1
            if j >= n:
                out.append(r"\[")
                i += 1
                continue
            out.append("[" + "".join(body) + "]")
            i = j + 1
            continue
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if not extended and d in "(){}|+?":
                out.append(d)
            elif d in "<>":
                out.append(r"\b")
            else:
                out.append("\\" + d)
            i += 2
            continue
        if not extended and c in "(){}|+?":
            out.append("\\" + c)
        elif extended and c == "{" and not re.match(r"\{\d*(,\d*)?\}", pattern[i:]):
            out.append(r"\{")
        elif c == "*" and (not out or out[-1] in ("(", "|", "^")):
            out.append(r"\*")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str, *, extended: bool = False, fixed: bool = False, icase: bool = False,
                    word: bool = False, line: bool = False) -> re.Pattern[str]:
    src = re.escape(pattern) if fixed else to_python(pattern, extended)
    if word:
        src = r"(?<![\w])(?:" + src + r")(?![\w])"
    if line:
        src = "^(?:" + src + ")$"
    return re.compile(src, re.IGNORECASE if icase else 0)
