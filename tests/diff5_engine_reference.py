"""The word diff engine frozen as it was before DIFF5 (a verbatim copy of agenda/diff.py at
a7f0535): the engine bench_diff times ours beside, and an oracle for its texts."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, chain, compress, count, islice, takewhile
from operator import attrgetter, not_
from types import ModuleType
from typing import Literal, NamedTuple, TypeVar, cast

from agenda.frozen import frozen
from agenda.marks import MARKS, UNIDATA_VERSION

OpKind = Literal["equal", "insert", "delete"]


@dataclass(frozen=True, slots=True)
class Op:
    op: OpKind
    text: str
    # Words in text, counted by the engine from its tokens as it makes the op, so statistics
    # never tokenise a result again; None when not known (ops built by hand, equal lines).
    words: int | None = field(default=None, compare=False, repr=False)


_new_op = Op.__new__
# The slots' own descriptors (looked up in the class dict: mypy types the fields by instance).
_set_kind, _set_text, _set_words = (vars(Op)[name].__set__ for name in ("op", "text", "words"))


def _op(kind: OpKind, text: str, words: int | None) -> Op:
    """Op(kind, text, words), its slots set directly: the frozen class's __init__ sets each
    field through object.__setattr__, twice the time, and the engine makes an Op per edit."""
    op = _new_op(Op)
    _set_kind(op, kind)
    _set_text(op, text)
    _set_words(op, words)
    return op


@frozen
class DiffStats:
    words_added: int
    words_deleted: int
    words_changed: int
    similarity: float


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


def _split_planes(body: str) -> tuple[str, str]:
    """A class body of marks as (basic plane part, astral part).

    re tests a class holding astral ranges range by range (~770 of them, 1.6 µs a symbol
    token); a class of the basic plane alone compiles to a table looked up at once.
    """
    bmp: list[str] = []
    astral: list[str] = []
    i = 0
    while i < len(body):
        span = body[i : i + 3] if i + 2 < len(body) and body[i + 1] == "-" else body[i]
        (astral if ord(span[0]) > 0xFFFF else bmp).append(span)
        i += len(span)
    return "".join(bmp), "".join(astral)


class _Patterns(NamedTuple):
    word_start: re.Pattern[str]
    # Marks, ZWNJ, ZWJ or astral characters: in a text without them, words are plain_word
    # matches.
    glue: re.Pattern[str]
    plain_word: re.Pattern[str]


@cache
def _marks() -> tuple[str, str]:
    """The marks' character classes: the Basic Multilingual Plane's and the astral ones."""
    return _split_planes(
        MARKS if unicodedata.unidata_version == UNIDATA_VERSION else scan_marks()
    )


# An astral class is only tried on an astral character.
_BEYOND = r"(?=[\U00010000-\U0010ffff])"


def _token_pattern(mark: str, glue: str) -> str:
    """The token pattern, given what a mark and an emoji's glue are."""
    # A word is \w and marks (and ZWNJ/ZWJ) in any order. Runs of each are matched
    # possessively: the two sets are disjoint, so no backtracking is needed, and none happens.
    word = rf"(?:\w++(?:{mark}++\w*+)*+|{mark}++(?:\w++{mark}*+)*+)"
    return (
        # The commonest tokens first: a lone space or \n, ASCII punctuation nothing glues to (a
        # cheap test before the word's, which halves the time of a text of punctuation), a
        # word. Alternatives start on disjoint characters, so the order changes no token.
        r" (?![^\S\r\n])|\n"
        r"|[!-/:-@\[-\^`{-~](?![^\x00-\x7f])"
        # A hyphenated or elided compound is one word: "Indo-Pacific" → "Asia-Pacific" reads
        # as one changed word, not "Indo" struck beside a shared "-Pacific".
        rf"|{word}(?:[-\u2010\u2011'\u2019]{word})*+"
        r"|[^\S\r\n]++|\r\n|\r|\n"
        r"|[\U0001f1e6-\U0001f1ff]{2}"
        rf"|[^\w\s]{glue}*+"
    )


@cache
def _token() -> re.Pattern[str]:
    """The token pattern for any text, built on first use (~13 ms: its classes of marks)."""
    bmp, astral = _marks()
    mark = rf"(?:[{bmp}\u200c\u200d]|{_BEYOND}[{astral}])"
    # Joiners that glue an emoji sequence together: ZWJ, skin tones, tag characters, marks.
    glue = (
        rf"(?:\u200d[^\w\s\u200d]|[\u200d{bmp}]"
        rf"|{_BEYOND}[\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f{astral}])"
    )
    return re.compile(_token_pattern(mark, glue))


@cache
def _ascii_token() -> re.Pattern[str]:
    """The token pattern on an ASCII text, where no mark, joiner or glue can occur: the same
    tokens (a test compares the two), without the cost of the classes of marks at first use."""
    # _token_pattern with no mark and no glue, simplified: a word is ASCII word characters
    # joined by - or ', and as no other token starts on a word character, words (the
    # commonest tokens) are tried first. A third less time than the general form.
    return re.compile(r"[A-Za-z0-9_]++(?:[-'][A-Za-z0-9_]++)*+| (?![^\S\r\n])|\n"
                      r"|[!-/:-@\[-\^`{-~]|[^\S\r\n]++|\r\n|\r|[^\w\s]")


def _token_findall(texts: Iterable[str]) -> Callable[[str], list[str]]:
    """The token pattern's findall for these texts: the ASCII one when all of them are."""
    return (_ascii_token() if all(map(str.isascii, texts)) else _token()).findall


@cache
def _patterns() -> _Patterns:
    """The word patterns, built on first use."""
    bmp, astral = _marks()
    beyond = _BEYOND
    return _Patterns(
        re.compile(rf"[\w{bmp}]|{beyond}[{astral}]"),
        # One class (searched with a table) plus any astral character, which may be a mark.
        re.compile(rf"[{bmp}\u200c\u200d\U00010000-\U0010ffff]"),
        _plain_word(),
    )


# ASCII texts: no mark, joiner or astral character is ASCII, so glue never matches them and
# word_start matches where \w does. These spare them the classes of marks, built at first use
# (~4 ms: the app's first frame diffs ASCII texts). A test compares them with _patterns().
@cache
def _plain_word() -> re.Pattern[str]:
    return re.compile(r"\w++(?:[-\u2010\u2011'\u2019]\w++)*+")


@cache
def _ascii_word_start() -> re.Pattern[str]:
    return re.compile(r"\w")


def _word_search(texts: Iterable[str]) -> Callable[[str], re.Match[str] | None]:
    """word_start's search, for these texts."""
    return (_ascii_word_start() if all(map(str.isascii, texts)) else _patterns().word_start).search


_LINE = re.compile(r"[^\r\n]*+(?:\r\n|\r|\n)|[^\r\n]++")
# Spacing that a token may join to a neighbouring space: tokenize() then reads the whole text.
_AWKWARD_SPACE = re.compile(r"[^\S \r\n]|  ")
_CHUNKED_FROM = 8192  # below this, splitting and looking up cost more than they save
_PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r|\n)[^\S\r\n]*+(?:\r\n|\r|\n)")
_LINE_ENDS = frozenset(("\n", "\r", "\r\n"))
_SENTENCE_ENDS = frozenset(".!?;")

# Above this many token pairs the exact LCS is not run on a block (it costs time and memory in
# proportion: ~0.5 s and ~450 MB for two unrelated 200 KB paragraphs); the block is aligned by
# lines, then sentences, and what is still this big is shown as replaced.
_MAX_CELLS = 400_000_000
# A long changed block whose words are less alike than this reads better as "replaced": the few
# shared words left after the clean-up are coincidences. Short blocks keep them ("We", ".").
_MIN_BLOCK_SIMILARITY = 0.3
_MIN_GUARDED_WORDS = 40
# Characters compared, and how alike they must be, for a block to skip _early's look.
_GLANCE = 256
_GLANCE_ALIKE = 0.8
# Changed blocks longer than this (both sides) have their shared edges cut off first.
_TRIM_FROM = 1 << 16

Block = tuple[int, int, int]
_K = TypeVar("_K")


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs, line ends and symbols; "".join gives it back."""
    findall = _token_findall((text,))
    if len(text) < _CHUNKED_FROM or _AWKWARD_SPACE.search(text):
        return findall(text)
    # Prose repeats its words: when every space stands alone (and no other spacing but line
    # ends occurs), no token reaches across a space, so the text is the tokens of its
    # space-separated chunks, each distinct chunk run through the pattern once and the rest
    # joined in C: about half the cost of one pass of the pattern over the whole text.
    chunks = text.split(" ")
    seen: dict[str, list[str]] = dict.fromkeys(chunks, [])
    for chunk in seen:
        seen[chunk] = [*findall(chunk), " "]
    out: list[str] = list(chain.from_iterable(map(seen.__getitem__, chunks)))
    out.pop()
    return out


def is_word(token: str) -> bool:
    """Whether a token from tokenize() is a word (not whitespace, punctuation or a symbol)."""
    first = token[:1]
    if first.isascii():  # no mark is ASCII, and \w on one ASCII character is isalnum or _
        return first.isalnum() or first == "_"
    return _patterns().word_start.match(token) is not None


def lines(text: str) -> list[str]:
    """Split text into lines, each with its line end (\\n, \\r\\n or a lone \\r)."""
    if "\n" not in text and "\r" not in text:
        return [text] if text else []
    if "\r" not in text:
        # Only \n ends lines: str.split, in C, a tenth of the pattern's time.
        found = [line + "\n" for line in text.split("\n")]
        last = found.pop()
        if len(last) > 1:
            found.append(last[:-1])
        return found
    return _LINE.findall(text)


def _count_words(text: str) -> int:
    if text.isascii():
        return len(_plain_word().findall(text))
    patterns = _patterns()
    if patterns.glue.search(text) is None:
        # Without marks, joiners or astral characters the words are the plain_word matches:
        # one simple regex pass instead of the tokenizer (equal lines, counted for statistics).
        return len(patterns.plain_word.findall(text))
    return sum(map(is_word, tokenize(text)))


def _words(op: Op) -> int:
    return _count_words(op.text) if op.words is None else op.words


@cache
def _distance() -> ModuleType:
    """rapidfuzz.distance, imported on the first diff (commands that never diff skip it)."""
    from rapidfuzz import distance
    return distance


def _common_prefix(x: Sequence[object], y: Sequence[object], limit: int, i: int = 0,
                   j: int = 0) -> int:
    """Length of the common prefix of x[i:] and y[j:] (at most limit).

    Element by element for the first few (the usual case), then by galloping slice compares,
    which run in C, so a prefix of a million tokens (or characters) costs a few milliseconds.
    """
    k, stop = 0, min(limit, 32)
    while k < stop and x[i + k] == y[j + k]:
        k += 1
    if k < stop or k == limit:
        return k
    lo, step = k, 64
    while lo < limit:
        hi = min(limit, lo + step)
        if x[i + lo : i + hi] != y[j + lo : j + hi]:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if x[i + lo : i + mid] == y[j + lo : j + mid]:
                    lo = mid
                else:
                    hi = mid
            return lo
        lo, step = hi, step * 2
    return lo


def _affix(x: Sequence[object], y: Sequence[object]) -> tuple[int, int]:
    """Lengths of the common prefix and (not overlapping it) common suffix."""
    limit = min(len(x), len(y))
    p = _common_prefix(x, y, limit)
    if p == limit or x[-1] != y[-1]:
        return p, 0
    return p, _common_prefix(x[::-1], y[::-1], limit - p)


# ASCII punctuation that is a token of its own before or after any ASCII character (the
# joiners -, ' and / can sit inside a word, _ is a word character).
_LONE_PUNCTUATION = frozenset("!\"#$%&()*+,.:;<=>?@[\\]^`{|}~")
# How far back from the first difference a cut between tokens is looked for.
_CUT_WINDOW = 256


def _loose_end(text: str, i: int) -> bool:
    """Whether no word continues past text[i] and no token joins it to text[i + 1]."""
    c, d = text[i], text[i + 1]
    if c.isspace():
        return not d.isspace()
    return c in _LONE_PUNCTUATION and d.isascii()


def _loose_start(text: str, i: int) -> bool:
    """Whether text[i] starts a token that no word continues into from text[i - 1]."""
    c, d = text[i - 1], text[i]
    if d.isspace():
        return not c.isspace()
    return d in _LONE_PUNCTUATION and c.isascii()


def _shared_length(texts: Sequence[str], limit: int, backwards: bool) -> int:
    first = texts[0]
    if limit <= _TRIM_FROM:
        # Texts of a diff or a merge: bisect on the length against each text in turn, each
        # test one comparison in C (copying up to `limit` characters, which is why long
        # texts gallop below instead).
        for other in texts[1:]:
            lo, hi = 0, limit
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if (other.endswith(first[len(first) - mid :]) if backwards
                        else other.startswith(first[:mid])):
                    lo = mid
                else:
                    hi = mid - 1
            limit = lo
        return limit
    lo, step = 0, 64
    while lo < limit:
        hi = min(limit, lo + step)
        if backwards:
            same = all(t.endswith(first[len(first) - hi : len(first) - lo], 0, len(t) - lo)
                       for t in texts[1:])
        else:
            same = all(t.startswith(first[lo:hi], lo) for t in texts[1:])
        if not same:
            if hi - lo == 1:
                return lo
            step = 1 if step <= 2 else step // 4
            continue
        lo, step = hi, step * 2
    return lo


def shared_edges(texts: Sequence[str]) -> tuple[int, int]:
    """Lengths of a prefix and a suffix (not overlapping) that all texts share.

    Each is cut between tokens, with a space or lone punctuation on the shared side, so the
    texts' tokens, words and the merge's neighbour words are the same with or without them:
    diffing or merging what is left gives the same answer, and a 1 MB text edited in one
    place costs what the edit costs.
    """
    if len(texts) < 2:
        return 0, 0
    limit = min(map(len, texts))
    first = texts[0]
    prefix = _cut_start(first, _shared_length(texts, limit, backwards=False))
    return prefix, _shared_suffix(texts, limit - prefix)


def _cut_start(text: str, common: int) -> int:
    """A shared start `common` characters long, cut back between tokens (0: no cut near)."""
    # A cut at c keeps text[:c]; the character at c and the one before it are shared.
    # Plain loops: a merge's texts are short, and a generator cost more than the search.
    c, stop = common - 1, max(0, common - _CUT_WINDOW)
    while c > stop and not _loose_end(text, c - 1):
        c -= 1
    return c if c > stop else 0


def _cut_end(text: str, common: int) -> int:
    """A shared end `common` characters long, cut back between tokens (0: no cut near)."""
    end = len(text)
    c, stop = end - common + 1, min(end, end - common + _CUT_WINDOW)
    while c < stop and not _loose_start(text, c):
        c += 1
    return end - c if c < stop else 0


def _shared_suffix(texts: Sequence[str], limit: int) -> int:
    """Length of a suffix of at most limit characters that all texts share, cut between
    tokens with a space or lone punctuation on the shared side (shared_edges' suffix)."""
    return _cut_end(texts[0], _shared_length(texts, limit, backwards=True))


def aligned_edges(texts: Sequence[str]) -> tuple[int, int]:
    """shared_edges of the texts (the one the others are aligned to first), the suffix kept
    clear of all that each other text shares with the first at its start.

    A diff, and each side of a merge against its base, matches the two texts' longest shared
    start first (_affix, and rapidfuzz's alignment after it), then the shared end of what is
    left. shared_edges bounds its suffix by the prefix all the texts share, cut between
    tokens, which is shorter than a pair's own shared start wherever that pair runs on or
    another text differs earlier. So in a text that repeats itself the suffix can take tokens
    a pair's shared start would have matched, and the middle then places the edit at the
    other end of the repeated run: in a diff, "a a \r" against "a \r" deleted " a", not
    "a "; in a merge, base ". \r . a b", IN ". \r . . a b", RU ". \r \r . a b" merge
    cleanly whole (IN inserts ". " after the base's second ".", where RU's "\r " does not
    compete) but conflict cut (suffix ". a b": IN inserts it before that ".", at RU's place).
    Bounded by every pair's shared start, each middle aligns as its whole text does less the
    edges, so the ops and the merge are the same with or without the cut.
    """
    head, tail = shared_edges(texts)
    first = texts[0]
    room = tail
    for text in texts[1:]:
        limit = min(len(first), len(text))
        # One compare in C: does this pair's shared start reach into the suffix? (Rare: only
        # a text that repeats itself around its edit.)
        if room and text.startswith(first[: limit - room + 1]):
            room = limit - _shared_length([first, text], limit, backwards=False)
    if room < tail:
        tail = _shared_suffix(texts, room) if room else 0
    return head, tail


def _pair_edges(a: str, b: str) -> tuple[int, int]:
    """aligned_edges([a, b]), its shared lengths each found by one call in C (rapidfuzz's
    Prefix and Postfix) instead of a bisection of compares: a short diff's fixed cost."""
    distance = _distance()
    shared, shared_end = distance.Prefix.similarity(a, b), distance.Postfix.similarity(a, b)
    limit = min(len(a), len(b))
    head = _cut_start(a, shared)
    tail = _cut_end(a, min(shared_end, limit - head))
    # aligned_edges' room: the suffix kept clear of the pair's shared start.
    room = min(tail, limit - shared)
    if room < tail:
        tail = _cut_end(a, min(shared_end, room)) if room else 0
    return head, tail


# The few-edits search (_few_edits) gives up past this many edits, or once its compares have
# covered this many times the two sequences' length: it is for long texts edited in a few
# places, where an LCS table would not fit.
_FEW_EDITS = 64
_FEW_EDITS_WORK = 8


def _few_edits(x: Sequence[object], y: Sequence[object],
               max_d: int = _FEW_EDITS) -> list[Block] | None:
    """Matches of a shortest edit script (Myers' greedy search), or None past max_d edits.

    Each diagonal's furthest point is extended by _common_prefix, in C, so the cost is about max_d
    squared steps in Python plus compares bounded by _FEW_EDITS_WORK times the length:
    linear in the texts, whatever they repeat.
    """
    n, m = len(x), len(y)
    budget = _FEW_EDITS_WORK * (n + m) + 1024
    trace: list[dict[int, int]] = []  # per edit count, each diagonal's furthest x reached
    for d in range(max_d + 1):
        before = trace[-1] if trace else {}
        furthest: dict[int, int] = {}
        for k in range(-d, d + 1, 2):
            if d == 0:
                i = 0
            else:
                start = _few_edits_step(before, k, n, m)
                if start is None:
                    continue
                i = start[0]
            j = i - k
            if i < n and j < m:
                step = _common_prefix(x, y, min(n - i, m - j), i, j)
                budget -= step
                if budget < 0:
                    return None
                i += step
            furthest[k] = i
            if i == n and i - k == m:
                trace.append(furthest)
                return _few_edits_path(trace, n, m)
        trace.append(furthest)
    return None


def _few_edits_step(before: dict[int, int], k: int, n: int,
                    m: int) -> tuple[int, int, int] | None:
    """(x where diagonal k's search starts, the diagonal it came from, x there), one edit on
    from the furthest points `before`: the further of an insertion (from k + 1) and a
    deletion (from k - 1) that stays inside both sequences."""
    down, right = before.get(k + 1), before.get(k - 1)
    if down is not None and down - k > m:
        down = None
    if right is not None and right + 1 > n:
        right = None
    if down is not None and (right is None or down >= right + 1):
        return down, k + 1, down
    if right is not None:
        return right + 1, k - 1, right
    return None


def _few_edits_path(trace: list[dict[int, int]], n: int, m: int) -> list[Block]:
    """The matches along the path _few_edits found, from its furthest points per step."""
    blocks: list[Block] = []
    k, i = n - m, n
    for d in range(len(trace) - 1, 0, -1):
        step = _few_edits_step(trace[d - 1], k, n, m)
        assert step is not None  # the forward search took this very step
        start, came_from, before = step
        if i > start:
            blocks.append((start, start - k, i - start))
        k, i = came_from, before
    if i:
        blocks.append((0, 0, i))
    blocks.reverse()
    return blocks


def _lcs(x: Sequence[int], y: Sequence[int]) -> list[Block] | None:
    """Exact LCS matches (x_start, y_start, length), or None when that would cost too much.

    Past _MAX_CELLS, sequences that differ in a few places still get their exact matches
    from _few_edits (a long text edited at both ends, which no common prefix or suffix
    anchors).
    """
    Indel = _distance().Indel
    if len(x) * len(y) > _MAX_CELLS:
        return _few_edits(x, y)
    # as_list() is much faster than Opcode objects; its stub types every field as str | int.
    ops = cast(list[tuple[str, int, int, int, int]], Indel.opcodes(x, y).as_list())
    return [(i1, j1, i2 - i1) for tag, i1, i2, j1, _ in ops if tag == "equal"]


def _align(x: Sequence[int], y: Sequence[int]) -> list[Block] | None:
    """_lcs, with the common prefix and suffix matched first so that only the rest counts."""
    p, s = _affix(x, y)
    n, m = len(x) - p - s, len(y) - p - s
    blocks = [(0, 0, p)] if p else []
    if n and m:
        middle = _lcs(x[p : p + n], y[p : p + m])
        if middle is None:
            return None
        blocks.extend((i + p, j + p, k) for i, j, k in middle)
    if s:
        blocks.append((len(x) - s, len(y) - s, s))
    return blocks


def _affix_blocks(x: Sequence[int], y: Sequence[int]) -> list[Block]:
    p, s = _affix(x, y)
    return [b for b in ((0, 0, p), (len(x) - s, len(y) - s, s)) if b[2]]


def _kinds(tokens: Sequence[str]) -> str:
    """One letter a token: n line end, s other spacing, e sentence end (. ! ? ;), o the rest.

    Built per distinct token and joined in C, so that cutting a hostile text of a million
    tokens into lines or sentences is a regex over a string, not a Python loop.
    """
    kind = {
        t: "n" if t in _LINE_ENDS else "s" if t.isspace() else "e" if t in _SENTENCE_ENDS
        else "o"
        for t in set(tokens)
    }
    return "".join(map(kind.__getitem__, tokens))


_LINE_CUT = re.compile("n")
# After the spacing that follows a sentence end; possessive, so a long run costs one pass.
_SENTENCE_CUT = re.compile("e[ns]++")


def _line_cuts(tokens: Sequence[str]) -> list[int]:
    return [m.end() for m in _LINE_CUT.finditer(_kinds(tokens))]


def _sentence_cuts(tokens: Sequence[str]) -> list[int]:
    """Token positions after a sentence: after the spacing that follows . ! ? or ;."""
    return [m.end() for m in _SENTENCE_CUT.finditer(_kinds(tokens))]


def _units(ids: Sequence[int], cuts: list[int],
           vocab: defaultdict[tuple[int, ...], int]) -> list[int]:
    """Ids of the units ids[0:c1], ids[c1:c2], ... (cuts strictly increasing, past 0), each
    distinct tuple numbered by vocab; sliced, keyed and looked up in C."""
    if not ids:
        return []
    bounds = [0, *cuts, len(ids)] if not cuts or cuts[-1] != len(ids) else [0, *cuts]
    keys = map(tuple, map(ids.__getitem__, map(slice, bounds, islice(bounds, 1, None))))
    return list(map(vocab.__getitem__, keys))


def _unit_starts(cuts: list[int], n: int) -> list[int]:
    """Token position where each unit of _units starts, and n after the last."""
    starts = [0, *(c for c in cuts if c < n)]
    return [*dict.fromkeys(starts), n]


def _coarse_blocks(
    x: Sequence[int], y: Sequence[int], tx: Sequence[str], ty: Sequence[str], level: int
) -> list[Block]:
    """Matches too costly to find exactly: align lines (level 0), then sentences (level 1).

    Units are matched exactly when they fit, by common prefix and suffix only when they do not,
    and the tokens between matched units are aligned again one level down; past sentences,
    what is left is unmatched. Every step costs at most _MAX_CELLS, so hostile texts of any
    length stay linear.
    """
    if level > 1:
        return _affix_blocks(x, y)
    cut = _line_cuts if level == 0 else _sentence_cuts
    cx, cy = cut(tx), cut(ty)
    vocab: defaultdict[tuple[int, ...], int] = defaultdict(count().__next__)
    ux, uy = _units(x, cx, vocab), _units(y, cy, vocab)
    sx, sy = _unit_starts(cx, len(x)), _unit_starts(cy, len(y))
    unit_blocks = _align(ux, uy)
    if unit_blocks is None:
        unit_blocks = _affix_blocks(ux, uy)
    out: list[Block] = []
    ai = bi = 0
    for ua, ub, un in [*unit_blocks, (len(ux), len(uy), 0)]:
        a0, b0 = sx[ua], sy[ub]
        if a0 > ai and b0 > bi:
            out.extend((i + ai, j + bi, k) for i, j, k in _blocks(
                x[ai:a0], y[bi:b0], tx[ai:a0], ty[bi:b0], level + 1))
        if un:
            out.append((a0, b0, sx[ua + un] - a0))
        ai, bi = sx[ua + un], sy[ub + un]
    return out


def _blocks(
    x: Sequence[int], y: Sequence[int], tx: Sequence[str], ty: Sequence[str], level: int = 0
) -> list[Block]:
    exact = _align(x, y)
    return exact if exact is not None else _coarse_blocks(x, y, tx, ty, level)


def _ids(a: Sequence[str], b: Sequence[str]) -> tuple[list[int], list[int]]:
    # rapidfuzz compares ints about twice as fast as strings.
    ids: defaultdict[str, int] = defaultdict(count().__next__)
    return list(map(ids.__getitem__, a)), list(map(ids.__getitem__, b))


# Token lists this short (both together) first try matching_blocks' shortcut.
_SHORT_MATCH = 256


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[Block]:
    """Longest-common-subsequence matches (a_start, b_start, length) between token lists.

    Exact when affordable; past _MAX_CELLS the tokens are aligned by lines, then sentences.
    """
    if len(a) + len(b) <= _SHORT_MATCH:
        # A merge's short middles ("and" against "term8"): when what the shared ends leave
        # has no token in common, the LCS is the ends alone, found without ids or rapidfuzz.
        p, s = _affix(a, b)
        if set(a[p : len(a) - s]).isdisjoint(b[p : len(b) - s]):
            return [blk for blk in ((0, 0, p), (len(a) - s, len(b) - s, s)) if blk[2]]
    ia, ib = _ids(a, b)
    return [blk for blk in _blocks(ia, ib, a, b) if blk[2]]


def _pieces(a: list[str], b: list[str]) -> Iterable[tuple[bool, int, int, int, int]]:
    """Yield (equal, a_start, a_end, b_start, b_end) spans covering both unit lists."""
    return _pieces_of_ids(*_ids(a, b))


def _pieces_of_ids(ia: list[int], ib: list[int]) -> Iterable[tuple[bool, int, int, int, int]]:
    blocks = _align(ia, ib)
    if blocks is None:
        blocks = _affix_blocks(ia, ib)
    ai = bi = 0
    for sa, sb, n in [*blocks, (len(ia), len(ib), 0)]:
        if sa > ai or sb > bi:
            yield False, ai, sa, bi, sb
        if n:
            yield True, sa, sa + n, sb, sb + n
        ai, bi = sa + n, sb + n


class _Block:
    """One changed block of both texts as tokens, with shared ids and word prefix sums."""

    def __init__(self, ta: list[str], tb: list[str]) -> None:
        self.ta, self.tb = ta, tb
        # Ids numbered in C; only their equalities matter (to rapidfuzz and the edges), so
        # each block numbers its own.
        ids = dict(zip(dict.fromkeys(chain(ta, tb)), count()))
        self.ca, self.cb = list(map(ids.__getitem__, ta)), list(map(ids.__getitem__, tb))
        word = _WORD.__getitem__
        self.fa, self.fb = list(map(word, ta)), list(map(word, tb))
        self.wa = list(accumulate(self.fa, initial=0))
        self.wb = list(accumulate(self.fb, initial=0))

    def a(self, i: int, j: int) -> Op:
        return _op("delete", "".join(self.ta[i:j]), self.wa[j] - self.wa[i])

    def b(self, i: int, j: int) -> Op:
        return _op("insert", "".join(self.tb[i:j]), self.wb[j] - self.wb[i])

    def equal(self, i: int, j: int) -> Op:
        return _op("equal", "".join(self.ta[i:j]), self.wa[j] - self.wa[i])


def _fresh(ids: dict[_K, int], known: int) -> list[_K]:
    """The keys given ids from known on, in the order of their ids.

    A dict keeps insertion order and iterates backwards too, so the new keys are read from
    its end: a cost in the keys just added, never in the ids known before them nor in the
    block just encoded (both cost a pass per changed block of a long text).
    """
    return list(islice(reversed(ids), len(ids) - known))[::-1]


def _replaced(blk: _Block, i1: int, i2: int, j1: int, j2: int) -> list[Op]:
    """Show a span as replaced, keeping shared whitespace (line ends) at its edges equal."""
    ta, tb = blk.ta, blk.tb
    lead = 0
    width = min(i2 - i1, j2 - j1)
    while lead < width and ta[i1 + lead] == tb[j1 + lead] and ta[i1 + lead].isspace():
        lead += 1
    trail = 0
    while (
        trail < width - lead
        and ta[i2 - 1 - trail] == tb[j2 - 1 - trail]
        and ta[i2 - 1 - trail].isspace()
    ):
        trail += 1
    ops = [blk.equal(i1, i1 + lead), blk.a(i1 + lead, i2 - trail),
           blk.b(j1 + lead, j2 - trail), blk.equal(i2 - trail, i2)]
    return [op for op in ops if op.text]


def _word_span(
    blk: _Block, i1: int, i2: int, j1: int, j2: int, level: int, weigh: bool = True
) -> list[Op]:
    """Word diff of tokens ta[i1:i2] against tb[j1:j2]; weigh=False: _early already did."""
    LCSseq = _distance().LCSseq
    p, s = _affix(blk.ca[i1:i2], blk.cb[j1:j2])
    m1, m2, n1, n2 = i1 + p, i2 - s, j1 + p, j2 - s
    head = [blk.equal(i1, m1)] if p else []
    tail = [blk.equal(m2, i2)] if s else []
    if m1 == m2 or n1 == n2:
        return [*head, *([blk.a(m1, m2)] if m1 < m2 else []),
                *([blk.b(n1, n2)] if n1 < n2 else []), *tail]
    words_a, words_b = blk.wa[i2] - blk.wa[i1], blk.wb[j2] - blk.wb[j1]
    kept = blk.wa[m1] - blk.wa[i1] + blk.wa[i2] - blk.wa[m2]
    if (weigh and words_a + words_b - 2 * kept > _MIN_GUARDED_WORDS
            and (m2 - m1) * (n2 - n1) <= _MAX_CELLS):
        # Decided before any token alignment (as _early does for blocks it can read without
        # tokenising): shared words can only be fewer once spacing and punctuation are
        # aligned too and the clean-up has run, so when even the words' own LCS is this low
        # the block ends up replaced anyway.
        shared = kept + LCSseq.similarity(
            list(compress(blk.ca[m1:m2], blk.fa[m1:m2])),
            list(compress(blk.cb[n1:n2], blk.fb[n1:n2])),
        )
        if _unalike(words_a, words_b, shared):
            return _replaced(blk, i1, i2, j1, j2)
    blocks = _lcs(blk.ca[m1:m2], blk.cb[n1:n2])
    if blocks is None:
        if level > 0:
            return _replaced(blk, i1, i2, j1, j2)
        return [*head, *_sentences(blk, m1, m2, n1, n2), *tail]
    ops: list[Op] = head
    ai, bi = m1, n1
    for sa, sb, n in [*blocks, (m2 - m1, n2 - n1, 0)]:
        sa, sb = sa + m1, sb + n1
        if sa > ai:
            ops.append(blk.a(ai, sa))
        if sb > bi:
            ops.append(blk.b(bi, sb))
        if n:
            ops.append(blk.equal(sa, sa + n))
        ai, bi = sa + n, sb + n
    ops = _cleanup([*ops, *tail], normalised=True)
    if _unalike(words_a, words_b, sum(_words(op) for op in ops if op.op == "equal")):
        return _replaced(blk, i1, i2, j1, j2)
    return ops


def _unalike(words_a: int, words_b: int, shared: float) -> bool:
    """A block with many changed words of which few are shared is shown as replaced."""
    changed = words_a + words_b - 2 * shared
    return changed > _MIN_GUARDED_WORDS and 2 * shared < _MIN_BLOCK_SIMILARITY * (
        words_a + words_b
    )


def _sentences(blk: _Block, i1: int, i2: int, j1: int, j2: int) -> list[Op]:
    """A block too big to align by words: match sentences, then words inside changed ones."""
    ta, tb = blk.ta[i1:i2], blk.tb[j1:j2]
    ca, cb = blk.ca[i1:i2], blk.cb[j1:j2]
    cuts_a, cuts_b = _sentence_cuts(ta), _sentence_cuts(tb)
    vocab: defaultdict[tuple[int, ...], int] = defaultdict(count().__next__)
    ua, ub = _units(ca, cuts_a, vocab), _units(cb, cuts_b, vocab)
    sa, sb = _unit_starts(cuts_a, len(ca)), _unit_starts(cuts_b, len(cb))
    ops: list[Op] = []
    for equal, a1, a2, b1, b2 in _pieces_of_ids(ua, ub):
        x1, x2, y1, y2 = sa[a1] + i1, sa[a2] + i1, sb[b1] + j1, sb[b2] + j1
        ops.extend([blk.equal(x1, x2)] if equal else _word_span(blk, x1, x2, y1, y2, 1))
    return ops


def _same_start(xs: list[str], ys: list[str]) -> list[str]:
    return [x for x, _ in takewhile(lambda pair: pair[0] == pair[1], zip(xs, ys, strict=False))]


def _early(a: str, b: str) -> tuple[bool, list[Op]]:
    """(weighed, ops): a changed block shown as replaced without tokenising it, when sure.

    Without marks, ZWNJ or ZWJ a text's words are exactly its plain_word matches, so the
    words' LCS, the bound _word_span weighs, costs one regex pass instead of the tokenizer:
    texts that share little are settled paragraph by paragraph at a third of the cost.
    """
    # rapidfuzz is imported on first use: commands that never diff start without it.
    distance = _distance()
    Indel, LCSseq = distance.Indel, distance.LCSseq
    # A glance at the first characters sends texts that start alike (an edited paragraph)
    # straight to the tokenizer, where they are weighed all the same: only a block that
    # looks unrelated pays for this look first.
    if Indel.normalized_similarity(a[:_GLANCE], b[:_GLANCE]) >= _GLANCE_ALIKE:
        return False, []
    if not (a.isascii() and b.isascii()):
        glue = _patterns().glue
        if glue.search(a) or glue.search(b):
            return False, []
    plain_word = _plain_word()
    words_a, words_b = plain_word.findall(a), plain_word.findall(b)
    if len(words_a) + len(words_b) <= _MIN_GUARDED_WORDS:
        return True, []
    if len(words_a) * len(words_b) > _MAX_CELLS:
        return False, []
    ids: defaultdict[str, int] = defaultdict(count().__next__)
    shared = LCSseq.similarity(list(map(ids.__getitem__, words_a)),
                               list(map(ids.__getitem__, words_b)))
    if not _unalike(len(words_a), len(words_b), shared):
        return True, []
    # Shared spacing at the edges stays equal, token by token, as _replaced keeps it.
    lead = "".join(_same_start(tokenize(a[: len(a) - len(a.lstrip())]),
                               tokenize(b[: len(b) - len(b.lstrip())])))
    trail = "".join(_same_start(tokenize(a[len(a.rstrip()) :])[::-1],
                                tokenize(b[len(b.rstrip()) :])[::-1])[::-1])
    ops = [Op("equal", lead, 0), Op("delete", a[len(lead) : len(a) - len(trail)], len(words_a)),
           Op("insert", b[len(lead) : len(b) - len(trail)], len(words_b)),
           Op("equal", trail, 0)]
    return True, [op for op in ops if op.text]


# Below this many characters (both texts) every block is tokenised whole, which aligns tokens
# exactly: the diffs of items' texts, their exports and snapshots stay as they were.
_UNITS_FROM = 8192
# A chunk longer than this is no prose (a hostile text, a run of symbols): the token path.
_LONG_CHUNK = 1024
# Spacing that a space joins into one token: a unit starting with it does not start a token.
_RUN_ON = frozenset(" \t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003"
                    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class _Units:
    """Space-separated chunks as ids shared by both texts, each distinct one weighed once.

    A text is cut after every space (str.split, in C): chunk k stands for itself and the
    space after it, the last for itself alone (keyed apart, as a tuple). A cut is between
    tokens unless spacing that joins a space follows it, which clean[id] records.
    """

    def __init__(self) -> None:
        self.ids: defaultdict[str | tuple[str], int] = defaultdict(count().__next__)
        self.words: list[int] = []
        self.clean: list[bool] = []
        self.tokens: list[list[str]] = []
        self.flags: list[list[bool]] = []
        self.ends: list[bool] = []  # the unit ends a sentence
        self.unclean: set[int] = set()  # ids of units that are not clean
        self.long: set[int] = set()  # ids of chunks longer than _LONG_CHUNK: no prose

    def encode(self, split: list[str]) -> list[int]:
        """The ids of the units of a text cut by str.split(" ")."""
        return self.encode_many([split])[0]

    def encode_many(self, splits: list[list[str]]) -> list[list[int]]:
        """The ids of the units of texts each cut by str.split(" "), all looked up in one
        pass and the fresh ones weighed together: a long text's changed paragraphs cost one
        call, not one each (most of a call's cost, in prose, is weighing a few fresh units)."""
        chunks: list[str | tuple[str]] = []
        ends = []
        for split in splits:
            chunks += split
            chunks[-1] = (split[-1],)
            ends.append(len(chunks))
        codes = self._encode(chunks)
        return [codes[start:end] for start, end in zip([0, *ends], ends, strict=False)]

    def _encode(self, chunks: list[str | tuple[str]]) -> list[int]:
        ids = self.ids
        known = len(self.words)
        codes = list(map(ids.__getitem__, chunks))
        if len(ids) > known:
            # Each fresh unit's fields built column by column: comprehensions and maps over
            # the new units, and a token's word flag looked up (decided once per token).
            fresh = _fresh(ids, known)
            texts = [key[0] if isinstance(key, tuple) else key + " " for key in fresh]
            findall = _token_findall(texts)
            long = [len(key[0] if isinstance(key, tuple) else key) > _LONG_CHUNK
                    for key in fresh]
            if any(long):
                # A long chunk is not tokenised: a block that holds one takes the token path
                # (which reads such texts in fewer, longer tokens) before its units are read.
                self.long.update(compress(count(known), long))
                tokens = [[] if far else findall(text) for text, far in zip(texts, long,
                                                                             strict=True)]
            else:
                tokens = list(map(findall, texts))
            word = _WORD.__getitem__
            flags = [list(map(word, found)) for found in tokens]
            self.tokens.extend(tokens)
            self.flags.extend(flags)
            self.words.extend(map(sum, flags))
            clean = [not unit or unit[0] not in _RUN_ON for unit in texts]
            self.clean.extend(clean)
            if not all(clean):
                self.unclean.update(compress(count(known), map(not_, clean)))
            self.ends.extend([unit.rstrip()[-1:] in _SENTENCE_ENDS for unit in texts])
        return codes


class _WordFlags(dict[str, bool]):
    """is_word per token, decided on a token's first look-up."""

    def __missing__(self, token: str) -> bool:
        if len(self) >= _WORDS_KEPT:
            self.clear()
        flag = self[token] = is_word(token)
        return flag


# Tokens whose word flag the process keeps (a redline's 500 diffs share their words); past
# this many the table starts again, so a hostile text cannot make it grow without end.
_WORDS_KEPT = 1 << 16
_WORD = _WordFlags()


def _lone_change(
    ta: list[str], tb: list[str], fa: list[bool], fb: list[bool]
) -> tuple[str, int, str, int, str, int, str, int] | None:
    """A small changed span's exact ops as (shared start, its words, deleted, its words,
    inserted, its words, shared end, its words), if its tokens past the shared edges share
    none (else None). fa and fb say which tokens are words; any text may be empty."""
    width = min(len(ta), len(tb))
    p = 0
    while p < width and ta[p] == tb[p]:
        p += 1
    s = 0
    while s < width - p and ta[-1 - s] == tb[-1 - s]:
        s += 1
    ea, eb = len(ta) - s, len(tb) - s
    ma, mb = ta[p:ea], tb[p:eb]
    if not set(ma).isdisjoint(mb):
        return None
    return ("".join(ta[:p]), sum(fa[:p]), "".join(ma), sum(fa[p:ea]), "".join(mb),
            sum(fb[p:eb]), "".join(ta[ea:]), sum(fa[ea:]))


# Changed spans of at most this many tokens a side try _lone_change first.
_LONE_TOKENS = 16


def _push(ops: list[Op], op: Op) -> None:
    """Append op keeping ops normalised: no empty op, runs joined, a delete before its insert."""
    if not op.text:
        return
    if ops:
        last = ops[-1]
        if last.op == op.op:
            ops[-1] = _joined(op.op, [last, op])
            return
        if op.op == "delete" and last.op == "insert":
            if len(ops) > 1 and ops[-2].op == "delete":
                ops[-2] = _joined("delete", [ops[-2], op])
            else:
                ops.insert(len(ops) - 1, op)
            return
    ops.append(op)


# Above this many unit pairs, a block's sentences are matched before its units.
_SENTENCES_FROM = 250_000


def _equal_runs(x: Sequence[int], y: Sequence[int]) -> list[Block]:
    Indel = _distance().Indel
    # as_list() is much faster than Opcode objects; its stub types every field as str | int.
    opcodes = cast(list[tuple[str, int, int, int, int]], Indel.opcodes(x, y).as_list())
    return [(i1, j1, i2 - i1) for tag, i1, i2, j1, _ in opcodes if tag == "equal"]


def _unit_runs(ia: list[int], ib: list[int], ends: list[bool]) -> list[Block]:
    """Equal runs of units: exact, or in a long block first by whole sentences (hashed, as
    lines are matched first), then by units between the sentences left unmatched, which
    costs their sizes' product instead of the block's."""
    if len(ia) * len(ib) <= _SENTENCES_FROM:
        return _equal_runs(ia, ib)
    cuts_a = list(compress(count(1), map(ends.__getitem__, ia)))
    cuts_b = list(compress(count(1), map(ends.__getitem__, ib)))
    vocab: defaultdict[tuple[int, ...], int] = defaultdict(count().__next__)
    sa, sb = _units(ia, cuts_a, vocab), _units(ib, cuts_b, vocab)
    starts_a, starts_b = _unit_starts(cuts_a, len(ia)), _unit_starts(cuts_b, len(ib))
    runs: list[Block] = []
    # A run that goes on where the one before it ends (an equal sentence, then the first
    # units of a changed one) is one run: the loop over runs steps once for both.
    end_a = end_b = -1
    for equal, a1, a2, b1, b2 in _pieces_of_ids(sa, sb):
        x1, x2, y1, y2 = starts_a[a1], starts_a[a2], starts_b[b1], starts_b[b2]
        if equal:
            found = [(x1, y1, x2 - x1)]
        elif x2 > x1 and y2 > y1:
            found = [(i + x1, j + y1, n) for i, j, n in _equal_runs(ia[x1:x2], ib[y1:y2])]
            if not found:
                continue
        else:
            continue
        i, j, n = found[0]
        if i == end_a and j == end_b:
            start_a, start_b, before = runs.pop()
            found[0] = (start_a, start_b, before + n)
        runs.extend(found)
        i, j, n = found[-1]
        end_a, end_b = i + n, j + n
    return runs


def _tidy(units: _Units, ia: list[int], ib: list[int]) -> bool:
    """Whether every cut between the units is between tokens (no unit starts with spacing
    that a space joins), checked in C: then no run needs its edges moved, and a span's tokens
    are its units' own."""
    unclean = units.unclean
    return not unclean or (unclean.isdisjoint(ia) and unclean.isdisjoint(ib))


def _unit_chunks(xa: str, xb: str) -> tuple[list[str], list[str]] | None:
    """A changed block's texts cut after every space, or None when it is for the token path.

    Counted before cutting: mostly spaces (empty chunks) or too many chunks to align exactly
    are for the token path, which reads such texts in fewer, longer tokens.
    """
    spaces_a, spaces_b = xa.count(" "), xb.count(" ")
    if ((spaces_a + 1) * (spaces_b + 1) > _MAX_CELLS or 2 * spaces_a > len(xa)
            or 2 * spaces_b > len(xb)):
        return None
    return xa.split(" "), xb.split(" ")


def _by_units(ca: list[str], cb: list[str], ia: list[int], ib: list[int],
              units: _Units) -> list[Op] | None:
    """Word diff of a changed block cut into chunks ca, cb (_unit_chunks) whose ids are ia,
    ib (units.encode_many), aligning units in C and tokenising only the changed ones.

    None when the block is for the token path: too big to align exactly, or read as replaced
    (which the token path decides, keeping shared spacing at the edges).
    """
    # Only a chunk seen for the first time is measured (encode notes the long ones).
    if units.long and not (units.long.isdisjoint(ia) and units.long.isdisjoint(ib)):
        return None
    # The words before each unit, summed in C: a run's words are one subtraction.
    uw = units.words
    wa = list(accumulate(map(uw.__getitem__, ia), initial=0))
    wb = list(accumulate(map(uw.__getitem__, ib), initial=0))
    ops = _unit_ops(ca, cb, ia, ib, wa, wb, units)
    if _unalike(wa[-1], wb[-1], sum([op.words or 0 for op in ops if op.op == "equal"])):
        return None
    return ops


def _units_text(chunks: list[str], lo: int, hi: int) -> str:
    """The text of units lo..hi of a text's chunks: joined by the spaces they were cut at,
    and the one after the last unless it ends the text."""
    text = " ".join(chunks[lo:hi])
    return text + " " if hi < len(chunks) else text


def _span_tokens(units: _Units, chunks: list[str], ids: list[int], lo: int, hi: int,
                 tidy: bool) -> tuple[list[str], list[bool]]:
    """The tokens and word flags of units lo..hi: the units' own when no cut inside the span
    joins two tokens, else the span's text tokenised."""
    if hi - lo == 1:
        return units.tokens[ids[lo]], units.flags[ids[lo]]
    if tidy or all(map(units.clean.__getitem__, ids[lo + 1 : hi])):
        return (list(chain.from_iterable(map(units.tokens.__getitem__, ids[lo:hi]))),
                list(chain.from_iterable(map(units.flags.__getitem__, ids[lo:hi]))))
    found = tokenize(_units_text(chunks, lo, hi))
    return found, list(map(_WORD.__getitem__, found))


def _unit_ops(ca: list[str], cb: list[str], ia: list[int], ib: list[int], wa: list[int],
              wb: list[int], units: _Units) -> list[Op]:
    """_by_units' ops: equal runs of units, and the changes between them by their tokens.

    Built straight as alternating equalities and changes, gathered in lists as they come
    (an edited word costs a few appends, not pieces gathered again later); the clean-up's
    stack runs only when some equality could be absorbed at all, which in edited prose is
    rare.
    """
    clean, tokens = units.clean, units.tokens
    na, nb = len(ia), len(ib)
    tidy = _tidy(units, ia, ib)
    # Change k lies between equality k and equality k + 1 (those at the ends may be empty).
    eqs: list[str] = []
    eq_w: list[int] = []
    dels: list[str] = []
    del_w: list[int] = []
    inss: list[str] = []
    ins_w: list[int] = []
    pend: list[str] = []  # the parts of the equality being gathered
    pend_w = 0
    # Equal runs (start a, start b, length), each cut back, when the block is not tidy, so
    # that its edges next to a change are between tokens: the units given back to the change
    # are equal on both sides.
    runs = _unit_runs(ia, ib, units.ends)
    ai = bi = 0
    for k, (i1, j1, n) in enumerate([*runs, (na, nb, 0)]):
        if n and not tidy:
            # A unit after a change must start a token (the first unit of a text always does).
            while n and (i1 or j1) and (i1 > ai or j1 > bi) and not clean[ia[i1]]:
                i1, j1, n = i1 + 1, j1 + 1, n - 1
            if not n:
                # The whole run went to the change: it joins the change after it, whose
                # first unit need not start a token.
                i1, j1 = ai, bi
            end = i1 + n
            nxt = runs[k + 1] if k + 1 < len(runs) else (na, nb, 0)
            if nxt[0] > end or nxt[1] > j1 + n:
                while n and ((end < na and not clean[ia[end]])
                             or (j1 + n < nb and not clean[ib[j1 + n]])):
                    end, n = end - 1, n - 1
        if i1 > ai or j1 > bi:
            # A change always follows an equality here (a run, or the start): it opens anew.
            # What the change's own span ends with and shares (`tail`) opens the next one.
            tail, tail_w = "", 0
            if ai == i1:
                gone, gone_w = "", 0
                new = _units_text(cb, bi, j1)
                new_w = wb[j1] - wb[bi]
            elif bi == j1:
                gone = _units_text(ca, ai, i1)
                gone_w = wa[i1] - wa[ai]
                new, new_w = "", 0
            elif (i1 - ai == 1 == j1 - bi and len(ta := tokens[ia[ai]]) == 2
                    and len(tb := tokens[ib[bi]]) == 2 and ta[1] == " " == tb[1]
                    and ta[0] != tb[0]):
                # The commonest edit: one token and its space replaced by another. What
                # _lone_change gives for it, without the call: the space is shared.
                gone, gone_w = ta[0], wa[i1] - wa[ai]
                new, new_w = tb[0], wb[j1] - wb[bi]
                tail = " "
            else:
                ta, fa = _span_tokens(units, ca, ia, ai, i1, tidy)
                tb, fb = _span_tokens(units, cb, ib, bi, j1, tidy)
                lone = (_lone_change(ta, tb, fa, fb)
                        if len(ta) <= _LONE_TOKENS and len(tb) <= _LONE_TOKENS else None)
                if lone is None:
                    # A change of many tokens: its own word diff, gathered op by op.
                    is_open = False
                    for op in _word_span(_Block(ta, tb), 0, len(ta), 0, len(tb), 0):
                        words = _words(op)
                        if op.op == "equal":
                            pend.append(op.text)
                            pend_w += words
                            is_open = False
                            continue
                        if not is_open:
                            eqs.append("".join(pend))
                            eq_w.append(pend_w)
                            pend, pend_w, is_open = [], 0, True
                            dels.append("")
                            del_w.append(0)
                            inss.append("")
                            ins_w.append(0)
                        if op.op == "delete":
                            dels[-1] += op.text
                            del_w[-1] += words
                        else:
                            inss[-1] += op.text
                            ins_w[-1] += words
                    gone = new = ""
                else:
                    head, head_w, gone, gone_w, new, new_w, tail, tail_w = lone
                    if head:
                        pend.append(head)
                        pend_w += head_w
            if gone or new or tail:
                eqs.append("".join(pend))
                eq_w.append(pend_w)
                dels.append(gone)
                del_w.append(gone_w)
                inss.append(new)
                ins_w.append(new_w)
                pend, pend_w = ([tail], tail_w) if tail else ([], 0)
        if n:
            pend.append(_units_text(ca, i1, i1 + n))
            pend_w += wa[i1 + n] - wa[i1]
        ai, bi = i1 + n, j1 + n
    eqs.append("".join(pend))
    eq_w.append(pend_w)
    return _settle_alternating(eqs, eq_w, dels, del_w, inss, ins_w)


def _settle_alternating(eqs: list[str], eq_w: list[int], dels: list[str], del_w: list[int],
                        inss: list[str], ins_w: list[int]) -> list[Op]:
    """_cleanup of equality 0, change 0, equality 1, ..., equality len(dels) (the equalities
    at the ends may be empty; no change is), its stack run over the lists as they are.

    The stack holds merged changes as their first change and lengths; the equality between
    two of them is the one before the later's first change. A change is pushed after
    absorbing what it can, which in edited prose is nothing: one test a change.
    """
    out: list[Op] = []
    append = out.append
    if not dels:
        if eqs[0]:
            append(_op("equal", eqs[0], eq_w[0]))
        return out
    word_search = _word_search(eqs)
    break_search = _PARAGRAPH_BREAK.search
    firsts = [0]
    dlens = [len(dels[0])]
    ilens = [len(inss[0])]
    for k in range(1, len(dels)):
        first, d, i = k, len(dels[k]), len(inss[k])
        while firsts:
            e = eqs[first]
            size = len(e)
            if (((size <= dlens[-1] or size <= ilens[-1]) and (size <= d or size <= i))
                    or not (eq_w[first] or word_search(e))) and not break_search(e):
                first = firsts.pop()
                d += dlens.pop() + size
                i += ilens.pop() + size
                continue
            break
        firsts.append(first)
        dlens.append(d)
        ilens.append(i)
    firsts.append(len(dels))
    for g in range(len(firsts) - 1):
        first, end = firsts[g], firsts[g + 1]
        if eqs[first]:
            append(_op("equal", eqs[first], eq_w[first]))
        if end - first == 1:
            if dels[first]:
                append(_op("delete", dels[first], del_w[first]))
            if inss[first]:
                append(_op("insert", inss[first], ins_w[first]))
            continue
        # A merged span: the equalities inside it go to both sides.
        inner = eqs[first + 1 : end]
        inner_w = sum(eq_w[first + 1 : end])
        gone = "".join(chain.from_iterable(zip(dels[first:end], [*inner, ""], strict=True)))
        new = "".join(chain.from_iterable(zip(inss[first:end], [*inner, ""], strict=True)))
        if gone:
            append(_op("delete", gone, sum(del_w[first:end]) + inner_w))
        if new:
            append(_op("insert", new, sum(ins_w[first:end]) + inner_w))
    if eqs[-1]:
        append(_op("equal", eqs[-1], eq_w[-1]))
    return out


def _token_block(xa: str, xb: str, weighed: bool) -> list[Op]:
    """Word diff of one changed block by its tokens (all of them, or those between the first
    and the last difference); weighed: _early has weighed it already."""
    out: list[Op] = []
    # What the texts share at their edges is cut off between tokens, so only what lies
    # between the first and the last difference is tokenised.
    head, tail = _pair_edges(xa, xb)
    long = len(xa) + len(xb) > _TRIM_FROM
    if long:
        # A long line edited in one place: what decides whether the block reads as
        # replaced weighs only the rest.
        weighed = False
    elif 4 * (head + tail) < len(xa) + len(xb):
        head = tail = 0  # edges too short to be worth cutting
    ta, tb = tokenize(xa[head : len(xa) - tail]), tokenize(xb[head : len(xb) - tail])
    if not long and head + tail and next(
            islice(filter(_WORD.__getitem__, chain(ta, tb)), _MIN_GUARDED_WORDS, None),
            None) is not None:
        # The edges count as shared words when the block is weighed (a block of few
        # changed words never is, with or without them): put them back.
        before, after = tokenize(xa[:head]), tokenize(xa[len(xa) - tail :])
        ta, tb = [*before, *ta, *after], [*before, *tb, *after]
        head = tail = 0
    if head:
        _push(out, Op("equal", xa[:head]))
    blk = _Block(ta, tb)
    for op in _word_span(blk, 0, len(blk.ta), 0, len(blk.tb), 0, weigh=not weighed):
        _push(out, op)
    if tail:
        _push(out, Op("equal", xa[len(xa) - tail :]))
    return out


def _anchored(xa: str, xb: str) -> list[tuple[bool, str, str]] | None:
    """A block edited in a few places as (equal, part of a, part of b) pieces, or None.

    Characters are aligned by _few_edits (compares in C; None past its edit count), and each
    equal run long enough is cut between tokens a little inside its ends, by the same test
    shared_edges uses: the characters on both sides of a cut lie inside the run, so the cut
    is between tokens in both texts, and each changed piece can be tokenised alone.
    """
    blocks = _few_edits(xa, xb)
    if blocks is None:
        return None
    pieces: list[tuple[bool, str, str]] = []
    ai = bi = 0
    for i, j, n in blocks:
        if n < 2 * _CUT_WINDOW:
            continue
        start = next((c for c in range(i + 1, i + _CUT_WINDOW) if _between_tokens(xa, c)), None)
        end = next((c for c in range(i + n - 1, i + n - _CUT_WINDOW, -1)
                    if _between_tokens(xa, c)), None)
        if start is None or end is None:
            continue
        pieces.append((False, xa[ai:start], xb[bi : start - i + j]))
        pieces.append((True, xa[start:end], ""))
        ai, bi = end, end - i + j
    if not pieces:
        return None
    pieces.append((False, xa[ai:], xb[bi:]))
    return [piece for piece in pieces if piece[1] or piece[2]]


def _between_tokens(text: str, c: int) -> bool:
    """Whether a cut at c (0 < c < len(text)) falls between tokens, whatever lies around
    text[c - 1 : c + 1]."""
    return _loose_end(text, c - 1) or _loose_start(text, c)


def diff_words(a: str, b: str) -> list[Op]:
    """Word diff: lines are matched first (as git does), then words inside changed blocks."""
    if a == b:
        return [Op("equal", a)] if a else []
    by_units = len(a) + len(b) >= _UNITS_FROM
    if not by_units and not _has_line_end(a) and not _has_line_end(b):
        # One line against one: a single changed block, with no line alignment to run. Its
        # ops are a fixed point of the clean-up already (_word_span's, cleaned up or with one
        # change, and shared edges that stand at the ends, where no change is beside them).
        weighed, early = _early(a, b)
        return early or _token_block(a, b, weighed)
    la, lb = lines(a), lines(b)
    units = _Units()
    # First each changed block's early look, and for those that take the unit path their
    # chunks, so that all their units are looked up and weighed in one pass.
    # A plan entry: (equal text, None) or (None, (xa, xb, weighed, early ops, edges, chunks)).
    plan: list[tuple[str | None, tuple[str, str, bool, list[Op], tuple[int, int],
                                        tuple[list[str], list[str]] | None] | None]] = []
    splits: list[list[str]] = []
    for equal, a1, a2, b1, b2 in _pieces(la, lb):
        if equal:
            plan.append(("".join(la[a1:a2]), None))
            continue
        xa, xb = "".join(la[a1:a2]), "".join(lb[b1:b2])
        weighed, early = _early(xa, xb)
        edges, chunks = (0, 0), None
        if not early and by_units:
            # Every block of a long text takes the unit path, however short: the paragraphs of
            # a text share their chunks, so after the first few a changed paragraph costs
            # look-ups instead of a pass of the tokenizer (50 KB in 100 edited paragraphs:
            # about a tenth less time). A long block edited in a few places is cut to what
            # lies between its first and last difference, weighed alone, as the token path
            # below does.
            if len(xa) + len(xb) > _TRIM_FROM:
                edges = aligned_edges([xa, xb])
            head, tail = edges
            ma, mb = xa[head : len(xa) - tail], xb[head : len(xb) - tail]
            chunks = _unit_chunks(ma, mb) if ma and mb else None
            if chunks is not None:
                splits.extend(chunks)
        plan.append((None, (xa, xb, weighed, early, edges, chunks)))
    codes = iter(units.encode_many(splits) if splits else [])
    ops: list[Op] = []
    # Whether every block's ops are a fixed point of the clean-up, and where the equal lines
    # between blocks are: if each of those holds a paragraph break, no merge can reach across
    # it, and the whole is a fixed point too (no last clean-up).
    fixed = True
    junctions: list[int] = []
    for text, block in plan:
        if block is None:
            _push(ops, _op("equal", cast(str, text), None))
            junctions.append(len(ops) - 1)
            continue
        xa, xb, weighed, early, (head, tail), chunks = block
        if early:
            for op in early:
                _push(ops, op)
            continue
        if chunks is not None:
            ca, cb = chunks
            done = _by_units(ca, cb, next(codes), next(codes), units)
            if done is not None:
                if len(xa) == len(a) and len(xb) == len(b) and not head + tail:
                    return done  # one block, cleaned up already (a fixed point)
                if head:
                    _push(ops, _op("equal", xa[:head], None))
                # done is normalised: once its first op is in, the rest follow as they are.
                _push(ops, done[0])
                ops.extend(done[1:])
                if tail:
                    _push(ops, _op("equal", xa[len(xa) - tail :], None))
                continue
        if len(xa) + len(xb) > _TRIM_FROM:
            anchored = _anchored(xa, xb)
            if anchored is not None:
                fixed = False
                # A long block edited in a few places, with no shared edges to cut (a text
                # edited at both ends): what lies between its edits is equal, and only the
                # few hundred characters around each edit are tokenised.
                for equal, pa, pb in anchored:
                    for op in [Op("equal", pa)] if equal else _token_block(pa, pb, False):
                        _push(ops, op)
                continue
        fixed = False
        for op in _token_block(xa, xb, weighed):
            _push(ops, op)
    if fixed and all(ops[k].op == "equal" and _PARAGRAPH_BREAK.search(ops[k].text)
                     for k in junctions if 0 < k < len(ops) - 1):
        return ops
    return _cleanup(ops, normalised=True)


def _has_line_end(text: str) -> bool:
    return "\n" in text or "\r" in text


def diff_lines(a: str, b: str) -> list[Op]:
    """Line diff: every changed line is deleted and inserted whole."""
    if a == b:
        return [Op("equal", a)] if a else []
    la, lb = lines(a), lines(b)
    ops: list[Op] = []
    for equal, a1, a2, b1, b2 in _pieces(la, lb):
        if equal:
            ops.append(Op("equal", "".join(la[a1:a2])))
        else:
            ops.extend([Op("delete", "".join(la[a1:a2])), Op("insert", "".join(lb[b1:b2]))])
    return _normalise(ops)


def diff(a: str, b: str, mode: Literal["word", "line"] = "word") -> list[Op]:
    """Diff two texts by words (default) or by whole lines."""
    if mode == "word":
        return diff_words(a, b)
    if mode == "line":
        return diff_lines(a, b)
    raise ValueError(f"Unknown diff mode {mode!r}: use 'word' or 'line'")


def _joined(kind: OpKind, parts: list[Op]) -> Op:
    if len(parts) == 1:
        return parts[0]
    counts = [p.words for p in parts]
    words = None if None in counts else sum(counts)  # type: ignore[arg-type]
    return _op(kind, "".join(p.text for p in parts), words)


def _normalise(ops: Iterable[Op]) -> list[Op]:
    """Drop empty ops and give each change region exactly one delete then one insert."""
    out: list[Op] = []
    equal: list[Op] = []
    deleted: list[Op] = []
    inserted: list[Op] = []
    for op in ops:
        if not op.text:
            continue
        if op.op == "equal":
            if deleted:
                out.append(_joined("delete", deleted))
                deleted = []
            if inserted:
                out.append(_joined("insert", inserted))
                inserted = []
            equal.append(op)
            continue
        if equal:
            out.append(_joined("equal", equal))
            equal = []
        (deleted if op.op == "delete" else inserted).append(op)
    for kind, run in (("equal", equal), ("delete", deleted), ("insert", inserted)):
        if run:
            out.append(_joined(kind, run))  # type: ignore[arg-type]
    return out


def _cleanup(ops: list[Op], normalised: bool = False) -> list[Op]:
    """Absorb small equalities between two changes, so a rewrite reads as one replacement.

    The rule is diff-match-patch's semantic clean-up (an equality no longer than the change on
    either side of it goes), plus: an equality without any word always goes, except a paragraph
    break, which keeps replaced paragraphs apart. A stack of spans over the normalised ops
    makes it linear: a merge adds lengths and joins each text once at the end, where
    diff-match-patch's own loop backtracks (15 s on two unrelated 200 KB texts) and building
    the merged strings as it goes was quadratic.
    """
    units = ops if normalised else _normalise(ops)
    word_search = _word_search(map(attrgetter("text"), units))
    # Whether an equality holds a word / a paragraph break, searched once per unit: a unit can
    # be weighed again each time the change above it grows.
    has_word: dict[int, bool] = {}
    has_break: dict[int, bool] = {}
    # Stack entries: (is_change, first unit, end unit, deleted length, inserted length).
    stack: list[tuple[bool, int, int, int, int]] = []
    i, n = 0, len(units)
    while i < n:
        op = units[i]
        if op.op == "equal":
            stack.append((False, i, i + 1, len(op.text), len(op.text)))
            i += 1
            continue
        j, deleted, inserted = i + 1, 0, 0
        if op.op == "delete":
            deleted = len(op.text)
            if j < n and units[j].op == "insert":
                inserted = len(units[j].text)
                j += 1
        else:
            inserted = len(op.text)
        stack.append((True, i, j, deleted, inserted))
        i = j
        while len(stack) >= 3 and stack[-3][0] and not stack[-2][0]:
            first, eq, last = stack[-3], stack[-2], stack[-1]
            size, k = eq[3], eq[1]
            small = size <= max(first[3], first[4]) and size <= max(last[3], last[4])
            if not small:
                if k not in has_word:
                    has_word[k] = word_search(units[k].text) is not None
                if has_word[k]:
                    break
            if k not in has_break:
                has_break[k] = _PARAGRAPH_BREAK.search(units[k].text) is not None
            if has_break[k]:
                break
            del stack[-3:]
            stack.append(
                (True, first[1], last[2], first[3] + size + last[3], first[4] + size + last[4])
            )
    out: list[Op] = []
    for is_change, start, end, _, _ in stack:
        if not is_change:
            out.append(units[start])
            continue
        span = units[start:end]
        if len(span) == 1 or (len(span) == 2 and span[0].op == "delete"):
            out.extend(span)  # a change nothing was merged into
            continue
        for kind, side in (("delete", "insert"), ("insert", "delete")):
            parts = [u for u in span if u.op != side]
            if parts:
                out.append(Op(kind, "".join(u.text for u in parts),  # type: ignore[arg-type]
                              sum(map(_words, parts))))
    return out


def diff_stats(ops: Sequence[Op]) -> DiffStats:
    """Count words added, deleted and changed; similarity = 2*shared words / all words."""
    if all(op.op == "equal" for op in ops):
        return DiffStats(0, 0, 0, 1.0)
    added = deleted = changed = equal = 0
    words_a = words_b = 0
    pending_delete = 0
    for op in ops:
        n = _words(op)
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
    sim = 2 * equal / (words_a + words_b) if words_a + words_b else 0.0
    return DiffStats(added, deleted, changed, sim)


def similarity(a: str, b: str) -> float:
    """Share of words two texts have in common, from 0.0 (nothing) to 1.0 (identical)."""
    return diff_stats(diff_words(a, b)).similarity
