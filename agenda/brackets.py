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
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

# A delegation code starts with a letter so that "[2030: the target]" is not read as a label.
_LABEL = re.compile(r"([A-Z][A-Z0-9]{1,7}): ")
_BACKTICKS = re.compile(r"`+")
_DEFINITION = re.compile(r"^ {0,3}(\[([^\]\n]+)\]):", re.MULTILINE)
# Every scan below walks these tokens left to right, never a character at a time and never
# back: a text is read in linear time whatever it holds (a quadratic walk let 32 KB of
# "[a](" hold the workspace lock for minutes). A backslash escapes the next character.
_TOKEN = re.compile(r"\\.|`+|[\[\]]", re.DOTALL)
_PAREN_TOKEN = re.compile(r"\\.|[()]|\n(?=\n)", re.DOTALL)


class Option:
    """One option of a bracket group: its label, text, and where the bracket pair sits.

    The text is sliced from the parsed source only when read: nested groups would otherwise
    copy the same text once per level, quadratic on "[[[[...]]]]".
    """

    __slots__ = ("label", "start", "end", "_source", "_from", "_text")

    label: str | None
    start: int
    end: int

    def __init__(self, label: str | None, text: str, start: int, end: int) -> None:
        for name, value in (("label", label), ("start", start), ("end", end),
                            ("_source", None), ("_from", 0), ("_text", text)):
            object.__setattr__(self, name, value)

    @classmethod
    def _within(cls, label: str | None, source: str, text_from: int, start: int,
                end: int) -> Option:
        option = cls(label, "", start, end)
        object.__setattr__(option, "_source", source)
        object.__setattr__(option, "_from", text_from)
        object.__setattr__(option, "_text", None)
        return option

    @property
    def text(self) -> str:
        if self._text is None:
            assert self._source is not None
            return self._source[self._from : self.end - 1]
        return self._text

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Option is immutable")

    def _key(self) -> tuple[str | None, str, int, int]:
        return (self.label, self.text, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Option):
            return NotImplemented
        if (self.label, self.start, self.end) != (other.label, other.start, other.end):
            return False
        return self.text == other.text

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Option(label={self.label!r}, text={self.text!r}, start={self.start!r}, "
                f"end={self.end!r})")


@dataclass(frozen=True)
class BracketGroup:
    start: int
    end: int
    options: tuple[Option, ...]
    depth: int


@dataclass(frozen=True)
class _Scan:
    pairs: list[tuple[int, int]]
    unclosed: list[int]
    unmatched: list[int]


def _normal_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def _paren_ends(text: str) -> dict[int, int]:
    """For each '(' (not escaped), the index just past its matching ')'; none across a blank
    line. One pass with a stack, so that asking it for every "](" stays linear."""
    ends: dict[int, int] = {}
    stack: list[int] = []
    for m in _PAREN_TOKEN.finditer(text):
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
        self.run_end: dict[int, int] = {}
        self.starts_by_length: dict[int, list[int]] = {}
        for m in _BACKTICKS.finditer(text):
            self.run_end[m.start()] = m.end()
            self.starts_by_length.setdefault(m.end() - m.start(), []).append(m.start())

    def end(self, opening_start: int, opening_end: int) -> int:
        """Index past the span whose opening backticks are text[opening_start:opening_end]
        (past the opening backticks when nothing closes it)."""
        starts = self.starts_by_length.get(opening_end - opening_start, [])
        k = bisect_left(starts, opening_end)
        return self.run_end[starts[k]] if k < len(starts) else opening_end


def _is_defined(text: str, start: int, end: int, defined: set[str]) -> bool:
    """Whether text[start:end], a label, names a link definition.

    A definition's label holds no ']', so a label holding one is refused before it is
    normalised: the contents of nested pairs are never read twice.
    """
    if text.rfind("]", start, end) != -1:
        return False
    return _normal_label(text[start:end]) in defined


def _reference_end(text: str, start: int, end: int, defined: set[str]) -> int | None:
    """If the pair text[start:end] is a reference link, the index just past it, else None."""
    if text.startswith("[", end):
        close = text.find("]", end + 1)
        if close != -1:
            if close > end + 1:
                ref_defined = _is_defined(text, end + 1, close, defined)
            else:
                ref_defined = _is_defined(text, start + 1, end - 1, defined)
            return close + 1 if ref_defined else None
    return end if _is_defined(text, start + 1, end - 1, defined) else None


def _scan(text: str) -> _Scan:
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
    i = 0  # tokens before i were skipped over (code span, link, definition)
    for m in _TOKEN.finditer(text):
        at = m.start()
        if at < i:
            continue
        c = text[at]
        if c == "\\":
            continue
        if c == "`":
            if spans is None:
                spans = _CodeSpans(text)
            i = spans.end(at, m.end())
        elif c == "[":
            if at in definitions:
                i = definitions[at]
            else:
                stack.append(at)
        else:
            end = at + 1
            if not stack:
                unmatched.append(at)
                continue
            start = stack.pop()
            if text.startswith("(", end):
                if paren_ends is None:
                    paren_ends = _paren_ends(text)
                after = paren_ends.get(end)
                if after is not None:
                    i = after
                    continue
            if defined:
                reference = _reference_end(text, start, end, defined)
                if reference is not None:
                    i = reference
                    continue
            pairs.append((start, end))
    return _Scan(pairs, stack, unmatched)


def parse(text: str) -> list[BracketGroup]:
    """The disputed-text groups in text, outermost and nested, in order of position."""
    pairs = sorted(_scan(text).pairs)
    depths: list[int] = []
    enclosing: list[int] = []
    for start, end in pairs:
        while enclosing and enclosing[-1] <= start:
            enclosing.pop()
        depths.append(len(enclosing))
        enclosing.append(end)
    groups: list[tuple[int, list[Option]]] = []
    # Keyed by (end, depth) of a group's last option: a pair starting there at that depth joins it.
    open_groups: dict[tuple[int, int], list[Option]] = {}
    for (start, end), depth in zip(pairs, depths, strict=True):
        m = _LABEL.match(text, start + 1, end - 1)
        option = Option._within(m.group(1) if m else None, text,
                                m.end() if m else start + 1, start, end)
        group = open_groups.pop((start, depth), None)
        if group is None:
            group = []
            groups.append((depth, group))
        group.append(option)
        open_groups[(end, depth)] = group
    return [BracketGroup(g[0].start, g[-1].end, tuple(g), depth) for depth, g in groups]


def bracket_count(text: str) -> int:
    """The negotiators' gauge: bracket pairs in text, each option and nested pair counted."""
    return len(_scan(text).pairs)


def group_count(text: str) -> int:
    """Number of disputed spans (a group of adjacent options counts once)."""
    return len(parse(text))


def check(text: str) -> list[str]:
    """Messages for unbalanced brackets, in order of position; empty when all are balanced."""
    scan = _scan(text)
    found = sorted([(i, "unclosed '['") for i in scan.unclosed]
                   + [(i, "unmatched ']'") for i in scan.unmatched])
    messages: list[str] = []
    # Lines are counted from one problem to the next, never from the start of the text:
    # a text of a million stray ']' must not be re-read once per message.
    line, line_start, previous = 1, 0, 0
    for index, problem in found:
        newlines = text.count("\n", previous, index)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", previous, index) + 1
        previous = index
        messages.append(f"{problem} at line {line}, column {index - line_start + 1}")
    return messages


def is_clean(text: str) -> bool:
    """True when text has no disputed brackets, balanced or not."""
    scan = _scan(text)
    return not (scan.pairs or scan.unclosed or scan.unmatched)
