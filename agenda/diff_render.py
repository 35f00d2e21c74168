"""Renderers that show a diff to people: word marks, CriticMarkup, HTML, ANSI, JSON, columns, -u."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agenda.diff import Op, lines, matching_blocks
from agenda.text import inert


@dataclass(frozen=True)
class SideRow:
    left: tuple[Op, ...]
    right: tuple[Op, ...]


def _changes(ops: Sequence[Op]) -> Iterable[tuple[str, str, str]]:
    """Yield ("equal", text, "") or ("change", old, new); a delete pairs with its insert."""
    i = 0
    while i < len(ops):
        op = ops[i]
        if op.op == "equal":
            yield "equal", op.text, ""
        elif op.op == "delete" and i + 1 < len(ops) and ops[i + 1].op == "insert":
            yield "change", op.text, ops[i + 1].text
            i += 1
        elif op.op == "delete":
            yield "change", op.text, ""
        else:
            yield "change", "", op.text
        i += 1


def render_critic(ops: Sequence[Op]) -> str:
    """CriticMarkup: {++added++}, {--deleted--}, {~~old~>new~~}."""
    out: list[str] = []
    for kind, old, new in _changes(ops):
        if kind == "equal":
            out.append(old)
        elif old and new:
            out.append(f"{{~~{old}~>{new}~~}}")
        elif old:
            out.append(f"{{--{old}--}}")
        else:
            out.append(f"{{++{new}++}}")
    return "".join(out)


def render_word(ops: Sequence[Op]) -> str:
    """Plain word diff {-old-}{+new+}; never square brackets, which mean disputed text here."""
    out: list[str] = []
    for op in ops:
        if op.op == "equal":
            out.append(op.text)
        elif op.op == "delete":
            out.append(f"{{-{op.text}-}}")
        else:
            out.append(f"{{+{op.text}+}}")
    return "".join(out)


def render_html(ops: Sequence[Op]) -> str:
    """HTML with <del>/<ins>; all user text is escaped."""
    tags = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}
    return "".join(tags[op.op].format(html.escape(op.text)) for op in ops)


_SGR = {"equal": "{}", "delete": "\x1b[31;9m{}\x1b[0m", "insert": "\x1b[32;4m{}\x1b[0m"}


def render_ansi(ops: Sequence[Op]) -> str:
    """Terminal colours: deletions red and struck through, insertions green and underlined."""
    return "".join(_SGR[op.op].format(inert(op.text)) for op in ops)


def ops_to_json(ops: Sequence[Op]) -> list[dict[str, str]]:
    """Ops as JSON-ready dicts {"op": ..., "text": ...}."""
    return [{"op": op.op, "text": op.text} for op in ops]


def side_by_side(ops: Sequence[Op]) -> list[SideRow]:
    """Rows of a two-column view, one per line; line ends are left out of the segments.

    Lines between two shared line ends are paired in order, and the shorter column is padded
    with empty rows.
    """
    rows: list[SideRow] = []
    left: list[list[Op]] = [[]]
    right: list[list[Op]] = [[]]

    def flush() -> None:
        for i in range(max(len(left), len(right))):
            lrow = tuple(left[i]) if i < len(left) else ()
            rrow = tuple(right[i]) if i < len(right) else ()
            rows.append(SideRow(lrow, rrow))

    for op in ops:
        for line in lines(op.text):
            body = line.rstrip("\r\n")
            if body and op.op != "insert":
                left[-1].append(Op(op.op, body))
            if body and op.op != "delete":
                right[-1].append(Op(op.op, body))
            if body == line:
                continue
            if op.op == "equal":
                flush()
                left, right = [[]], [[]]
            elif op.op == "delete":
                left.append([])
            else:
                right.append([])
    # A line end at the very end of the text opens no further line.
    for column in (left, right):
        if len(column) > 1 and not column[-1]:
            column.pop()
    if left != [[]] or right != [[]]:
        flush()
    return rows


def _unified_range(start: int, length: int) -> str:
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def render_unified(
    a: str, b: str, *, from_label: str = "a", to_label: str = "b", context: int = 3
) -> str:
    """A `diff -u` style line diff; empty when the texts are equal."""
    la, lb = lines(a), lines(b)
    # The exact matcher, not difflib: its autojunk is wrong on long texts.
    codes: list[tuple[str, int, int, int, int]] = []
    ai = bi = 0
    for sa, sb, n in matching_blocks(la, lb) + [(len(la), len(lb), 0)]:
        if sa > ai or sb > bi:
            codes.append(("change", ai, sa, bi, sb))
        if n:
            codes.append(("equal", sa, sa + n, sb, sb + n))
        ai, bi = sa + n, sb + n
    if all(c[0] == "equal" for c in codes):
        return ""
    # Hunk grouping as difflib.SequenceMatcher.get_grouped_opcodes does it.
    if codes[0][0] == "equal":
        _, i1, i2, j1, j2 = codes[0]
        codes[0] = ("equal", max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        _, i1, i2, j1, j2 = codes[-1]
        codes[-1] = ("equal", i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    hunks: list[list[tuple[str, int, int, int, int]]] = []
    group: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            hunks.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        hunks.append(group)

    out = [f"--- {from_label}\n", f"+++ {to_label}\n"]
    for hunk in hunks:
        a0, a1 = hunk[0][1], hunk[-1][2]
        b0, b1 = hunk[0][3], hunk[-1][4]
        out.append(f"@@ -{_unified_range(a0, a1 - a0)} +{_unified_range(b0, b1 - b0)} @@\n")
        for tag, i1, i2, j1, j2 in hunk:
            if tag == "equal":
                out.extend(_unified_line(" ", line) for line in la[i1:i2])
            else:
                out.extend(_unified_line("-", line) for line in la[i1:i2])
                out.extend(_unified_line("+", line) for line in lb[j1:j2])
    return "".join(out)


def _unified_line(prefix: str, line: str) -> str:
    if line.endswith(("\n", "\r")):
        return prefix + line
    return f"{prefix}{line}\n\\ No newline at end of file\n"
