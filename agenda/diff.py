"""Word and line diffs between two texts, and the renderers that show them to people."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from agenda.marks import MARKS, UNIDATA_VERSION

OpKind = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Op:
    op: OpKind
    text: str


@dataclass(frozen=True)
class DiffStats:
    words_added: int
    words_deleted: int
    words_changed: int
    similarity: float


@dataclass(frozen=True)
class SideRow:
    left: tuple[Op, ...]
    right: tuple[Op, ...]


def _char_class(codepoints: Iterable[int]) -> str:
    """Compress code points into a regex character class body of ranges."""
    parts: list[str] = []
    run: list[int] = []
    for cp in sorted(codepoints):
        if run and cp == run[-1] + 1:
            run.append(cp)
            continue
        if run:
            parts.append(_range(run[0], run[-1]))
        run = [cp]
    if run:
        parts.append(_range(run[0], run[-1]))
    return "".join(parts)


def _range(lo: int, hi: int) -> str:
    return re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"


def scan_marks() -> str:
    """Every combining mark as a regex class body (the source of agenda/marks.py).

    Python's \\w misses combining marks (Devanagari matras, viramas...), which would cut
    "हिन्दी" into confetti; marks only live in planes 0-1 plus the variation selectors of
    plane 14.
    """
    return _char_class(
        [cp for cp in range(0x20000) if unicodedata.category(chr(cp))[0] == "M"]
        + list(range(0xE0100, 0xE01F0))
    )


@cache
def _word_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The token and word patterns, built on first use."""
    marks = MARKS if unicodedata.unidata_version == UNIDATA_VERSION else scan_marks()
    # Joiners that glue an emoji sequence together: ZWJ, skin tones, tag characters.
    emoji_glue = "\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f" + marks
    word = rf"(?:\w|[{marks}\u200c\u200d])+"
    token = re.compile(
        r"\r\n|\r|\n"
        r"|[^\S\r\n]+"
        # A hyphenated or elided compound is one word: "Indo-Pacific" → "Asia-Pacific" reads
        # as one changed word, not "Indo" struck beside a shared "-Pacific".
        rf"|{word}(?:[-\u2010\u2011'\u2019]{word})*"
        r"|[\U0001f1e6-\U0001f1ff]{2}"
        rf"|[^\w\s](?:\u200d[^\w\s\u200d]|[{emoji_glue}])*"
    )
    return token, re.compile(rf"(?:\w|[{marks}])")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r|\n)[^\S\r\n]*(?:\r\n|\r|\n)")
_SENTENCE = re.compile(r".*?(?:[.!?;]+\s+|$)", re.DOTALL)

# Above this many token pairs a block is first split by sentences, and if it is still this
# big it is shown as replaced: the exact LCS costs time and memory in proportion (~0.5 s and
# ~450 MB for two unrelated 200 KB paragraphs).
_MAX_CELLS = 400_000_000
# A long changed block whose words are less alike than this reads better as "replaced": the few
# shared words left after the clean-up are coincidences. Short blocks keep them ("We", ".").
_MIN_BLOCK_SIMILARITY = 0.3
_MIN_GUARDED_WORDS = 40


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs, line ends and symbols; "".join gives it back."""
    return _word_patterns()[0].findall(text)


def is_word(token: str) -> bool:
    """Whether a token from tokenize() is a word (not whitespace, punctuation or a symbol)."""
    return _word_patterns()[1].match(token) is not None


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, int]]:
    """Exact longest-common-subsequence matches (a_start, b_start, length) between token lists."""
    from rapidfuzz.distance import Indel  # here: commands that never diff start without it

    ids: dict[str, int] = {}
    # rapidfuzz compares ints about twice as fast as strings.
    ia = [ids.setdefault(t, len(ids)) for t in a]
    ib = [ids.setdefault(t, len(ids)) for t in b]
    return [
        (o.src_start, o.dest_start, o.src_end - o.src_start)
        for o in Indel.opcodes(ia, ib)
        if o.tag == "equal"
    ]


def _pieces_diff(a: list[str], b: list[str]) -> Iterable[tuple[str, str, str]]:
    """Yield (kind, a_text, b_text) where kind is "equal" or "changed"."""
    ai = bi = 0
    for sa, sb, n in matching_blocks(a, b) + [(len(a), len(b), 0)]:
        if sa > ai or sb > bi:
            yield "changed", "".join(a[ai:sa]), "".join(b[bi:sb])
        if n:
            yield "equal", "".join(a[sa : sa + n]), ""
        ai, bi = sa + n, sb + n


def _replace(a: str, b: str) -> list[Op]:
    return [Op(k, t) for k, t in (("delete", a), ("insert", b)) if t]


def _replace_tokens(ta: list[str], tb: list[str]) -> list[Op]:
    """Show a block as replaced, keeping shared whitespace (line ends) at its edges equal."""
    lead = 0
    while lead < min(len(ta), len(tb)) and ta[lead] == tb[lead] and not ta[lead].strip():
        lead += 1
    trail = 0
    while (
        trail < min(len(ta), len(tb)) - lead
        and ta[-1 - trail] == tb[-1 - trail]
        and not ta[-1 - trail].strip()
    ):
        trail += 1
    return [
        Op("equal", "".join(ta[:lead])),
        *_replace("".join(ta[lead : len(ta) - trail]), "".join(tb[lead : len(tb) - trail])),
        Op("equal", "".join(ta[len(ta) - trail :])),
    ]


def _word_block(ta: list[str], tb: list[str]) -> list[Op]:
    if len(ta) * len(tb) > _MAX_CELLS:
        return _replace_tokens(ta, tb)
    ops: list[Op] = []
    for kind, x, y in _pieces_diff(ta, tb):
        ops.extend([Op("equal", x)] if kind == "equal" else _replace(x, y))
    ops = _cleanup(ops)
    stats = diff_stats(ops)
    words = stats.words_added + stats.words_deleted + 2 * stats.words_changed
    if words > _MIN_GUARDED_WORDS and stats.similarity < _MIN_BLOCK_SIMILARITY:
        return _replace_tokens(ta, tb)
    return ops


def _changed_block(a: str, b: str) -> list[Op]:
    ta, tb = tokenize(a), tokenize(b)
    if len(ta) * len(tb) <= _MAX_CELLS:
        return _word_block(ta, tb)
    ops: list[Op] = []
    for kind, x, y in _pieces_diff(_SENTENCE.findall(a), _SENTENCE.findall(b)):
        ops.extend([Op("equal", x)] if kind == "equal" else _word_block(tokenize(x), tokenize(y)))
    return ops


def diff_words(a: str, b: str) -> list[Op]:
    """Word diff: lines are matched first (as git does), then words inside changed blocks."""
    if a == b:
        return [Op("equal", a)] if a else []
    ops: list[Op] = []
    for kind, x, y in _pieces_diff(_LINE.findall(a), _LINE.findall(b)):
        ops.extend([Op("equal", x)] if kind == "equal" else _changed_block(x, y))
    return _cleanup(ops)


def diff_lines(a: str, b: str) -> list[Op]:
    """Line diff: every changed line is deleted and inserted whole."""
    if a == b:
        return [Op("equal", a)] if a else []
    ops: list[Op] = []
    for kind, x, y in _pieces_diff(_LINE.findall(a), _LINE.findall(b)):
        ops.extend([Op("equal", x)] if kind == "equal" else _replace(x, y))
    return _normalise(ops)


def diff(a: str, b: str, mode: Literal["word", "line"] = "word") -> list[Op]:
    """Diff two texts by words (default) or by whole lines."""
    if mode == "word":
        return diff_words(a, b)
    if mode == "line":
        return diff_lines(a, b)
    raise ValueError(f"Unknown diff mode {mode!r}: use 'word' or 'line'")


def _normalise(ops: Iterable[Op]) -> list[Op]:
    """Drop empty ops and give each change region exactly one delete then one insert."""
    out: list[Op] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        out.extend(_replace("".join(deleted), "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for op in ops:
        if not op.text:
            continue
        if op.op == "delete":
            deleted.append(op.text)
        elif op.op == "insert":
            inserted.append(op.text)
        else:
            flush()
            if out and out[-1].op == "equal":
                out[-1] = Op("equal", out[-1].text + op.text)
            else:
                out.append(op)
    flush()
    return out


def _cleanup(ops: list[Op]) -> list[Op]:
    """Absorb small equalities between two changes, so a rewrite reads as one replacement.

    The rule is diff-match-patch's semantic clean-up (an equality no longer than the change on
    either side of it goes), plus: an equality without any word always goes, except a paragraph
    break, which keeps replaced paragraphs apart. A stack makes it
    linear; diff-match-patch's own loop backtracks and took 15 s on two unrelated 200 KB texts.
    """
    # Stack items: ("eq", text) or ("ch", deleted_text, inserted_text).
    stack: list[tuple[str, ...]] = []
    for op in _normalise(ops):
        if op.op == "equal":
            stack.append(("eq", op.text))
            continue
        d, i = (op.text, "") if op.op == "delete" else ("", op.text)
        if stack and stack[-1][0] == "ch":
            _, pd, pi = stack.pop()
            d, i = pd + d, pi + i
        stack.append(("ch", d, i))
        while len(stack) >= 3 and stack[-3][0] == "ch" and stack[-2][0] == "eq":
            _, d2, i2 = stack[-1]
            eq = stack[-2][1]
            _, d1, i1 = stack[-3]
            small = len(eq) <= max(len(d1), len(i1)) and len(eq) <= max(len(d2), len(i2))
            if (not small and _word_patterns()[1].search(eq)) or _PARAGRAPH_BREAK.search(eq):
                break
            del stack[-3:]
            stack.append(("ch", d1 + eq + d2, i1 + eq + i2))
    out: list[Op] = []
    for item in stack:
        if item[0] == "eq":
            out.append(Op("equal", item[1]))
        else:
            out.extend(_replace(item[1], item[2]))
    return out


def _word_count(text: str) -> int:
    return sum(1 for t in tokenize(text) if is_word(t))


def diff_stats(ops: Sequence[Op]) -> DiffStats:
    """Count words added, deleted and changed; similarity = 2*shared words / all words."""
    added = deleted = changed = equal = 0
    words_a = words_b = 0
    pending_delete = 0
    for op in ops:
        n = _word_count(op.text)
        if op.op == "insert":
            words_b += n
            both = min(pending_delete, n)
            changed += both
            deleted += pending_delete - both
            added += n - both
            pending_delete = 0
            continue
        deleted += pending_delete
        pending_delete = 0
        if op.op == "delete":
            words_a += n
            pending_delete = n
        else:
            equal += n
            words_a += n
            words_b += n
    deleted += pending_delete
    if words_a + words_b:
        sim = 2 * equal / (words_a + words_b)
    else:
        sim = 1.0 if all(op.op == "equal" for op in ops) else 0.0
    return DiffStats(added, deleted, changed, sim)


def similarity(a: str, b: str) -> float:
    """Share of words two texts have in common, from 0.0 (nothing) to 1.0 (identical)."""
    return diff_stats(diff_words(a, b)).similarity


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
        for line in _LINE.findall(op.text):
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
    la, lb = _LINE.findall(a), _LINE.findall(b)
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


# C0 controls except tab and newline, DEL, C1 controls, and a carriage return that is not part
# of a CRLF (a lone CR lets text overwrite what the terminal already shows).
_UNSAFE = re.compile(r"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def inert(text: str) -> str:
    r"""Make text safe to print: control characters and ESC become visible escapes like \x1b."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
