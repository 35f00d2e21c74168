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
from dataclasses import dataclass

# A delegation code starts with a letter so that "[2030: the target]" is not read as a label.
_LABEL = re.compile(r"([A-Z][A-Z0-9]{1,7}): ")
_BACKTICKS = re.compile(r"`+")
_DEFINITION = re.compile(r"^ {0,3}(\[([^\]\n]+)\]):", re.MULTILINE)


@dataclass(frozen=True)
class Option:
    label: str | None
    text: str
    start: int
    end: int


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


def _closing_paren(text: str, i: int) -> int | None:
    """Index just past the ')' that closes the '(' at i, or None."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == "\n" and text.startswith("\n", i + 1):
            return None
        i += 1
    return None


def _reference_end(text: str, start: int, end: int, defined: set[str]) -> int | None:
    """If the pair text[start:end] is a reference link, the index just past it, else None."""
    if not defined:
        return None
    if text.startswith("[", end):
        close = text.find("]", end + 1)
        if close != -1:
            ref = text[end + 1 : close] or text[start + 1 : end - 1]
            return close + 1 if _normal_label(ref) in defined else None
    return end if _normal_label(text[start + 1 : end - 1]) in defined else None


def _scan(text: str) -> _Scan:
    definitions = {m.start(1): m.end(1) for m in _DEFINITION.finditer(text)}
    defined = {_normal_label(m.group(2)) for m in _DEFINITION.finditer(text)}
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    unmatched: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "`":
            i = _code_span_end(text, i)
        elif i in definitions:
            i = definitions[i]
        elif c == "[":
            stack.append(i)
            i += 1
        elif c == "]":
            i += 1
            if not stack:
                unmatched.append(i - 1)
                continue
            start = stack.pop()
            if text.startswith("(", i):
                after = _closing_paren(text, i)
                if after is not None:
                    i = after
                    continue
            after = _reference_end(text, start, i, defined)
            if after is not None:
                i = after
                continue
            pairs.append((start, i))
        else:
            i += 1
    return _Scan(pairs, stack, unmatched)


def _code_span_end(text: str, i: int) -> int:
    """Index past the code span whose opening backticks start at i (past them if unclosed)."""
    opening = _BACKTICKS.match(text, i)
    assert opening is not None
    for closing in _BACKTICKS.finditer(text, opening.end()):
        # A span closes only on a run of exactly as many backticks as opened it.
        if len(closing.group()) == len(opening.group()):
            return closing.end()
    return opening.end()


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
        content = text[start + 1 : end - 1]
        m = _LABEL.match(content)
        option = (
            Option(m.group(1), content[m.end() :], start, end)
            if m
            else Option(None, content, start, end)
        )
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


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def check(text: str) -> list[str]:
    """Messages for unbalanced brackets, in order of position; empty when all are balanced."""
    scan = _scan(text)
    found = [(i, f"unclosed '[' at {_position(text, i)}") for i in scan.unclosed]
    found += [(i, f"unmatched ']' at {_position(text, i)}") for i in scan.unmatched]
    return [message for _, message in sorted(found)]


def is_clean(text: str) -> bool:
    """True when text has no disputed brackets, balanced or not."""
    scan = _scan(text)
    return not (scan.pairs or scan.unclosed or scan.unmatched)
