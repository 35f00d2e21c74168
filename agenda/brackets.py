"""Find the square brackets that mark disputed text in a Markdown item body.

In diplomatic drafting ``[...]`` marks text that is not agreed; options written directly one
after another, ``[Indo-Pacific][Asia-Pacific]``, are one group of competing options, and an
option may carry a delegation label: ``[IN: Indo-Pacific][RU: Asia-Pacific]``. Only brackets
that touch form one group: ``[a] [b]`` is two groups, because whitespace between brackets is
how drafters separate two independent disputes in one sentence.

Markdown uses brackets too, and those are not disputes: inline links and images
``[text](url)`` / ``![alt](src)``, reference links whose label is defined in the text
(``[text][ref]``, ``[ref]`` with a ``[ref]: url`` line) and the definition lines themselves,
backslash-escaped ``\\[`` ``\\]``, and anything inside a code span or fence (backticks).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from heapq import merge
from itertools import groupby, islice
from operator import itemgetter
from typing import NamedTuple

from agenda.frozen import frozen
from agenda.pairs import plain_count

# A delegation code starts with a letter so that "[2030: the target]" is not read as a label.
_LABEL = re.compile(r"([A-Z][A-Z0-9]{1,7}): ")
_BACKTICKS = re.compile(r"`+")
_DEFINITION = re.compile(r"^ {0,3}(\[([^\]\n]+)\]):", re.MULTILINE)
# Every scan below walks these tokens left to right, never a character at a time and never
# back: a text is read in linear time whatever it holds (a quadratic walk let 32 KB of
# "[a](" hold the workspace lock for minutes). A backslash escapes the next character.
# The lookahead lets the engine skip plain prose a character at a time without trying each
# alternative there: 4× faster on an item of 1 KB, which every listing of a summit scans.
_TOKEN = re.compile(r"(?=[\\`\[\]])(?:(?:\\.)+|`+|\[+[^\[\]\\`]*\]|\[+|\]+)", re.DOTALL)
# Plain pairs (no brackets, backticks or escapes inside) and the plain text between them.
_PLAIN_PAIR = re.compile(r"\[[^\[\]\\`]*\]")
_STRETCH = re.compile(r"(?:\[[^\[\]\\`]*\][^\[\]\\`]*)+")
# Tokens "[[a]" written back to back (a chain); the '['s it pushes (all but each pair's own);
# each pair's own label and that of the token after it, which together make "[text][ref]".
_CHAIN = re.compile(r"(?:\[+[^\[\]\\`]*\])++")
_PUSH = re.compile(r"\[(?=\[)")
_NEXT_LABEL = re.compile(r"\](?=\[(\[*[^\[\]\\`]*)\])")
_LABEL_BEFORE_EMPTY = re.compile(r"\[([^\[\]\\`]*)\](?=\[\])")
_span, _start = re.Match.span, re.Match.start
_CHAIN_AFTER = 8  # tokens in a row before a chain is taken at once (a group of options is not)
# What can end a stretch of unmatched ']' while no '[' is open.
_OPENER = re.compile(r"[\[`\\]")
_CLOSER = re.compile(r"\]")
_NEWLINE = re.compile("\n")
MAX_PROBLEMS = 1000
_PAREN_TOKEN = re.compile(r"\\.|[()]|\n(?=\n)", re.DOTALL)


class Option(tuple[str | None, int, int, str, int]):
    """One option of a bracket group: its label, text, and where the bracket pair sits.

    The text is sliced from the parsed source only when read: nested groups would otherwise
    copy the same text once per level, quadratic on "[[[[...]]]]". A tuple underneath: a
    parse of a hostile text makes hundreds of thousands of them.
    """

    __slots__ = ()

    def __new__(cls, label: str | None, text: str, start: int, end: int) -> Option:
        return tuple.__new__(cls, (label, start, end, text, -1))

    @property
    def label(self) -> str | None:
        return self[0]

    @property
    def start(self) -> int:
        return self[1]

    @property
    def end(self) -> int:
        return self[2]

    @property
    def text(self) -> str:
        source, text_from = self[3], self[4]
        return source if text_from < 0 else source[text_from : self[2] - 1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Option):
            return NotImplemented
        return self[:3] == other[:3] and self.text == other.text

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self[:3], self.text))

    def __repr__(self) -> str:
        return (f"Option(label={self.label!r}, text={self.text!r}, start={self.start!r}, "
                f"end={self.end!r})")


class BracketGroup(NamedTuple):
    """Adjacent options, outermost first; a tuple, cheap to make by the hundred thousand."""

    start: int
    end: int
    options: tuple[Option, ...]
    depth: int


@frozen
class _Scan:
    pairs: list[tuple[int, int]]
    unclosed: list[int]
    unmatched: list[int]


@lru_cache(maxsize=1024)
def _normal_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def _paren_ends(text: str) -> dict[int, int]:
    """For each '(' (not escaped), the index just past its matching ')'; none across a blank
    line. One pass with a stack, so that asking it for every "](" stays linear."""
    ends: dict[int, int] = {}
    stack: list[int] = []
    last = text.rfind(")")  # nothing closes after the last ')': no need to read on
    for m in _PAREN_TOKEN.finditer(text, 0, last + 1):
        c = text[m.start()]
        if c == "(":
            stack.append(m.start())
        elif c == ")":
            if stack:
                ends[stack.pop()] = m.end()
        elif c == "\n":
            stack.clear()  # a blank line ends every open link destination
    return ends


class _CodeSpans:
    """Where a code span opened by a run of backticks closes: at the next run of exactly as
    many backticks (not at a longer or shorter one), found by bisection, not by a walk."""

    def __init__(self, text: str) -> None:
        runs = sorted((m.end() - m.start(), m.start()) for m in _BACKTICKS.finditer(text))
        self.starts_by_length = {length: [start for _, start in group]
                                 for length, group in groupby(runs, key=itemgetter(0))}

    def end(self, opening_start: int, opening_end: int) -> int:
        """Index past the span whose opening backticks are text[opening_start:opening_end]
        (past the opening backticks when nothing closes it)."""
        length = opening_end - opening_start
        starts = self.starts_by_length.get(length, [])
        k = bisect_left(starts, opening_end)
        return starts[k] + length if k < len(starts) else opening_end


_NOTHING = _Scan([], [], [])


def _scan(text: str) -> _Scan:
    if "[" not in text and "]" not in text:
        return _NOTHING  # most items of a long agenda: no regex walk over their prose
    definitions: dict[int, int] = {}
    defined: set[str] = set()
    for m in _DEFINITION.finditer(text):
        definitions[m.start(1)] = m.end(1)
        defined.add(_normal_label(m.group(2)))
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    unmatched: list[int] = []
    paren_ends: dict[int, int] | None = None
    spans: _CodeSpans | None = None

    add_pair, startswith, find, rfind = pairs.append, text.startswith, text.find, text.rfind

    def close(start: int, end: int) -> int:
        """The pair text[start:end] closes: record it unless it is a link; where to go on.

        A reference's label is looked up only when it holds no ']' (no definition's label
        does): the contents of nested pairs are never normalised, nor read twice.
        """
        nonlocal paren_ends
        if has_paren and startswith("(", end):
            if paren_ends is None:
                paren_ends = _paren_ends(text)
            after = paren_ends.get(end)
            if after is not None:
                return after
        if defined:
            label_from, label_to = start + 1, end - 1
            if startswith("[", end):
                label_end = find("]", end + 1)
                if label_end != -1:
                    if label_end > end + 1:  # [text][ref], else [ref][]: the text is the ref
                        label_from, label_to = end + 1, label_end
                    if (rfind("]", label_from, label_to) == -1
                            and _normal_label(text[label_from:label_to]) in defined):
                        return label_end + 1
                    add_pair((start, end))
                    return end
            if (rfind("]", label_from, label_to) == -1
                    and _normal_label(text[label_from:label_to]) in defined):
                return end  # [ref]: a shortcut reference link
        add_pair((start, end))
        return end

    chain_read_to = 0  # chains before this were read (see chain)
    streak, chain_after = 0, _CHAIN_AFTER  # tokens in a row, each followed by '['

    def chain(at: int) -> int | None:
        """Tokens "[[a]" written back to back from `at`, taken at once; where to read on, or
        None to go on a token at a time.

        A pair followed by another token is followed by '[', so it is no inline link, and it
        is a reference "[text][ref]" when the next token's label (its own before "[]") is
        defined. Those labels are found in C and each distinct one looked up once: when none
        is defined, every pair but the last is disputed text; when all are and no token has
        a '[' of its own to push, the tokens pair up as references. 1 MB of "[a][" with a
        definition took 1.3 s a token at a time. Either way the chain is read once: a chain
        that fits neither is not looked at again (a look per token would be quadratic).
        """
        nonlocal chain_read_to
        run = _CHAIN.match(text, at)
        assert run is not None  # text[at:] starts with a token "[...]"
        end = chain_read_to = run.end()
        labels = set(_NEXT_LABEL.findall(text, at, end))
        if "" in labels:  # "[text][]": the label is the text's
            labels.discard("")
            labels.update(_LABEL_BEFORE_EMPTY.findall(text, at, end))
        hits = sum(_normal_label(label) in defined for label in labels) if defined else 0
        # Spans and starts made by map over the matches, in C: no Python step per pair.
        if not hits:
            found = list(map(_span, _PLAIN_PAIR.finditer(text, at, end)))
            stack.extend(map(_start, _PUSH.finditer(text, at, end)))
            last = found.pop()
            pairs.extend(found)
            return close(*last)
        if hits == len(labels) and _PUSH.search(text, at, end) is None:
            found = list(map(_span, _PLAIN_PAIR.finditer(text, at, end)))
            return close(*found[-1]) if len(found) % 2 else end
        return None

    has_paren = ")" in text  # without one no link closes, whatever follows a ']'
    i = 0  # tokens before i were skipped over (code span, link, definition)
    restart: int | None = 0
    while restart is not None:
        tokens, restart = _TOKEN.finditer(text, restart), None
        for m in tokens:
            at, stop = m.span()
            if at < i:
                if stop > i:  # a token that a skip ends inside: read again from the skip's end
                    restart = i
                    break
                continue
            c = text[at]
            if c == "]":
                if not stack:
                    # No '[' is open: every ']' up to the next '[', backtick or backslash is
                    # unmatched; take them in bulk and read on from there.
                    unmatched.extend(range(at, stop))
                    opener = _OPENER.search(text, stop)
                    upto = opener.start() if opener else len(text)
                    unmatched.extend(m.start() for m in _CLOSER.finditer(text, stop, upto))
                    if upto > stop:
                        restart = upto
                        break
                    continue
                i = close(stack.pop(), at + 1)
                if stop - at == 1:
                    continue
                # Inside a run of ']' no pair is a link (a ']' follows) or a defined label (it
                # holds a ']'): the middle of the run is matched in bulk, only its last end can
                # be followed by a link or a reference.
                middle = range(at + 1, stop - 1)
                taken = min(len(middle), len(stack))
                if taken:
                    pairs.extend(zip(reversed(stack[-taken:]), range(at + 2, at + 2 + taken),
                                     strict=True))
                    del stack[-taken:]
                unmatched.extend(middle[taken:])
                if stack:
                    i = close(stack.pop(), stop)
                else:
                    unmatched.append(stop - 1)
            elif c == "[":
                if at in definitions:
                    i = definitions[at]
                elif text[stop - 1] != "]":
                    stack.extend(range(at, stop))
                else:  # '['s, then a pair with no [ ] ` \\ inside: pushes, then a push and pop
                    if not startswith("[", stop):
                        streak = 0
                    elif (streak := streak + 1) >= chain_after and at >= chain_read_to:
                        chained = chain(at)
                        if chained is not None:
                            i = restart = chained
                            break
                    start = rfind("[", at, stop)
                    if start > at:
                        stack.extend(range(at, start))
                    if defined:
                        i = close(start, stop)
                        continue
                    if not has_paren:
                        # No link can close and no reference is defined: every plain pair
                        # up to the next '[' run, backtick or backslash is disputed text;
                        # take the whole stretch at once.
                        found = _STRETCH.match(text, start)
                        assert found is not None  # text[start:stop] is such a pair
                        stretch = found.end()
                        if find("]", stop, stretch) != -1:
                            pairs.extend(p.span() for p in _PLAIN_PAIR.finditer(text, start,
                                                                                stretch))
                            restart = stretch
                            break
                    # The common case, kept to the fewest steps.
                    if has_paren and startswith("(", stop):
                        if paren_ends is None:
                            paren_ends = _paren_ends(text)
                        after = paren_ends.get(stop)
                        if after is not None:
                            i = after
                            continue
                    add_pair((start, stop))
            elif c == "`":
                if spans is None:
                    spans = _CodeSpans(text)
                i = spans.end(at, stop)
    return _Scan(pairs, stack, unmatched)


def parse(text: str) -> list[BracketGroup]:
    """The disputed-text groups in text, outermost and nested, in order of position."""
    groups: list[tuple[int, list[Option]]] = []
    # Keyed by (end, depth) of a group's last option: a pair starting there at that depth joins it.
    open_groups: dict[tuple[int, int], list[Option]] = {}
    enclosing: list[int] = []
    match, new = _LABEL.match, tuple.__new__
    for start, end in sorted(_scan(text).pairs):
        while enclosing and enclosing[-1] <= start:
            enclosing.pop()
        depth = len(enclosing)
        enclosing.append(end)
        m = match(text, start + 1, end - 1)
        # Made as tuples directly (see Option): a parse may make hundreds of thousands.
        option = new(Option, (m.group(1), start, end, text, m.end()) if m
                     else (None, start, end, text, start + 1))
        group = open_groups.pop((start, depth), None)
        if group is None:
            group = []
            groups.append((depth, group))
        group.append(option)
        open_groups[(end, depth)] = group
    return [new(BracketGroup, (g[0][1], g[-1][2], tuple(g), depth)) for depth, g in groups]


def bracket_count(text: str) -> int:
    """The negotiators' gauge: bracket pairs in text, each option and nested pair counted."""
    if "[" not in text:  # most texts: no pair can open
        return 0
    # Every pair disputed text: counted in C (the scan took a third of opening a summit of
    # 20,000 items).
    count = plain_count(text)
    return count if count >= 0 else len(_scan(text).pairs)


def group_count(text: str) -> int:
    """Number of disputed spans (a group of adjacent options counts once)."""
    return len(parse(text))


def check(text: str) -> list[str]:
    """Messages for unbalanced brackets, in order of position; empty when all are balanced.

    At most MAX_PROBLEMS of them, then one line saying how many more: a text of a million
    stray brackets needs its first ones fixed, not a million lines.
    """
    scan = _scan(text)
    total = len(scan.unclosed) + len(scan.unmatched)
    found = list(islice(merge(scan.unclosed, scan.unmatched), MAX_PROBLEMS))
    if not found:
        return []
    # Lines by bisection in the newline positions, never by counting from the start of the
    # text for each message.
    newlines = [m.start() for m in _NEWLINE.finditer(text, 0, found[-1])]
    problem = {"[": "unclosed '['", "]": "unmatched ']'"}
    messages = [f"{problem[text[i]]} at line {(line := bisect_right(newlines, i)) + 1}, "
                f"column {i - (newlines[line - 1] if line else -1)}" for i in found]
    if total > len(found):
        messages.append(f"… and {total - len(found):,} more unbalanced brackets")
    return messages


def is_clean(text: str) -> bool:
    """True when text has no disputed brackets, balanced or not."""
    scan = _scan(text)
    return not (scan.pairs or scan.unclosed or scan.unmatched)
