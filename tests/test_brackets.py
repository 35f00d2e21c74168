"""Tests for the disputed-bracket parser, against the former quadratic one as an oracle."""

import re
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import brackets
from agenda.brackets import (
    MAX_PROBLEMS,
    BracketGroup,
    Option,
    bracket_count,
    check,
    group_count,
    is_clean,
    parse,
)


def test_labelled_options_form_one_group() -> None:
    text = "in the [IN: Indo-Pacific][RU: Asia-Pacific] region"
    assert parse(text) == [
        BracketGroup(
            start=7,
            end=43,
            options=(
                Option("IN", "Indo-Pacific", 7, 25),
                Option("RU", "Asia-Pacific", 25, 43),
            ),
            depth=0,
        )
    ]
    assert bracket_count(text) == 2
    assert group_count(text) == 1


def test_unlabelled_options_and_single_brackets() -> None:
    text = "[Indo-Pacific][Asia-Pacific] cooperation [by 2030]"
    groups = parse(text)
    assert [[o.text for o in g.options] for g in groups] == [
        ["Indo-Pacific", "Asia-Pacific"],
        ["by 2030"],
    ]
    assert all(o.label is None for g in groups for o in g.options)
    assert bracket_count(text) == 3


def test_whitespace_between_brackets_separates_groups() -> None:
    assert group_count("[a] [b]") == 2
    assert group_count("[a][b]") == 1


def test_empty_labelled_option_is_a_deletion() -> None:
    assert parse("x [IN: y][RU: ]")[0].options[1] == Option("RU", "", 9, 15)


def test_label_needs_a_delegation_code() -> None:
    assert [o.label for o in parse("[2030: target][in: x][India: y][IN:z]")[0].options] == [
        None,
        None,
        None,
        None,
    ]
    assert parse("[AB12CDEF: x]")[0].options[0].label == "AB12CDEF"


def test_nested_brackets() -> None:
    text = "[The Sides [agreed][decided] to act]"
    groups = parse(text)
    assert [(g.start, g.end, g.depth, len(g.options)) for g in groups] == [
        (0, 36, 0, 1),
        (11, 28, 1, 2),
    ]
    assert groups[0].options[0].text == "The Sides [agreed][decided] to act"
    assert bracket_count(text) == 3
    assert group_count(text) == 2


def test_markdown_links_images_are_not_disputes() -> None:
    text = "See [the roadmap](https://example.org/a[1]) and ![flag](img/in.png)."
    assert parse(text) == []
    assert is_clean(text)


def test_reference_links_are_not_disputes_but_undefined_ones_are() -> None:
    text = "See [the roadmap][rm] and [rm].\n\n[rm]: https://example.org\n"
    assert bracket_count(text) == 0
    assert bracket_count("See [the roadmap][rm].") == 2


def test_escaped_brackets_and_code_spans_are_ignored() -> None:
    text = r"a \[not\] b `x[0]` c ``y]`` d" + "\n```\nz = [1, 2\n```\n"
    assert parse(text) == []
    assert check(text) == []
    assert is_clean(text)


def test_brackets_outside_code_still_count() -> None:
    assert bracket_count("`a[0]` and [disputed]") == 1


def test_unbalanced_brackets_are_reported_not_fatal() -> None:
    text = "First [agreed] line\nsecond [open\nthird ] and ] stray"
    assert check(text) == ["unmatched ']' at line 3, column 13"]
    text = "line one\n  [open and [closed]"
    assert check(text) == ["unclosed '[' at line 2, column 3"]
    assert bracket_count(text) == 1
    assert parse(text)[0].depth == 0
    assert not is_clean(text)
    assert not is_clean("stray ] only")


def test_clean_text() -> None:
    text = "The Sides agreed to launch the Chennai–Vladivostok maritime corridor."
    assert is_clean(text)
    assert bracket_count(text) == 0
    assert group_count(text) == 0
    assert check(text) == []


def test_total_over_texts_is_a_sum() -> None:
    texts = ["[a][b]", "clean", "[c [d]]"]
    assert sum(map(bracket_count, texts)) == 4


@settings(deadline=None)
@given(st.text(alphabet="[]()!`\\ab :\nIN", max_size=60))
def test_parser_never_crashes_and_agrees_with_itself(text: str) -> None:
    groups = parse(text)
    assert bracket_count(text) == sum(len(g.options) for g in groups)
    assert group_count(text) == len(groups)
    for g in groups:
        assert text[g.start] == "[" and text[g.end - 1] == "]"
        assert all(g.start <= o.start < o.end <= g.end for o in g.options)
    assert isinstance(check(text), list)


# Small texts built from the pieces that steer the scanner: links, images, definitions,
# escapes, code spans of several widths, labels, blank lines.
FRAGMENTS = ["[", "]", "(", ")", "![", "](", "][", "`", "``", "```", "\\", "\\[", "\\]",
             "\n", "\n\n", "[ref]: u\n", "  [r x]: v\n", "ref", "R X", " ", "IN: ", "RU: ",
             "a", "b", ":", "\u00df", "SS"]
structured = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
raw = st.text(alphabet="[]()!`\\ab :\nINref", max_size=60)


def _same_as_oracle(text: str) -> None:
    assert parse(text) == _old_parse(text)
    assert [[o.text for o in g.options] for g in parse(text)] == [
        [o.text for o in g.options] for g in _old_parse(text)]
    assert bracket_count(text) == len(_old_scan(text).pairs)
    assert check(text) == _old_check(text)
    old = _old_scan(text)
    assert is_clean(text) == (not (old.pairs or old.unclosed or old.unmatched))


@settings(deadline=None, max_examples=400)
@given(structured)
def test_linear_scanner_agrees_with_the_former_one_on_markdown_pieces(text: str) -> None:
    _same_as_oracle(text)


@settings(deadline=None, max_examples=400)
@given(raw)
def test_linear_scanner_agrees_with_the_former_one_on_raw_characters(text: str) -> None:
    _same_as_oracle(text)


# Tokens written back to back ("[a][[b][]..."), which the scanner takes as one chain once
# eight follow each other: labels defined or not (case and spacing vary), empty ones, '['s
# of a token's own (pushed, or part of a label "[a" that a definition may define), and what
# can follow a chain.
_LABELS = ["ref", "Ref", "r  x", "R X", "a", "", "x", "[a", "[ref"]
chains = st.tuples(
    st.lists(st.sampled_from(["[ref]: u\n", "[r x]: v\n", "[a]: w\n", "[[a]: w\n"]),
             max_size=3),
    st.lists(st.tuples(st.integers(1, 3), st.sampled_from(_LABELS)), min_size=1,
             max_size=24),
    st.sampled_from(["", "[", "]", "(u)", "[a]", " x", "\n[ref]: u", "`", "[b", "]]]"]),
).map(lambda t: "".join(t[0]) + "".join("[" * (k - 1) + f"[{x}]" for k, x in t[1]) + t[2])


# Chains of references only: every label defined, an odd or even number of tokens.
reference_chains = st.tuples(
    st.lists(st.sampled_from(["ref", "Ref", "r  x", "R X", "a", ""]), min_size=8,
             max_size=21),
    st.sampled_from(["", "(u)", "[", "[x]", "[ref]", " x", "]"]),
).map(lambda t: "[ref]: u\n[r x]: v\n[a]: w\n" + "".join(f"[{x}]" for x in t[0]) + t[1])


@settings(deadline=None, max_examples=600)
@given(st.one_of(chains, reference_chains))
def test_linear_scanner_agrees_with_the_former_one_on_chains_of_tokens(text: str) -> None:
    _same_as_oracle(text)


def test_a_chain_is_read_once_whatever_it_holds() -> None:
    # Defined and undefined labels alternate, so the chain is neither all references nor all
    # disputes: it goes a token at a time, and must not be matched again from every token.
    text = "[a]: u\n" + "[a][b]" * 5000
    calls = []

    class Counting:
        def match(self, *args: object) -> object:
            calls.append(args)
            return chain.match(*args)

    chain = brackets._CHAIN
    with mock.patch.object(brackets, "_CHAIN", Counting()):
        count = bracket_count(text)
    assert len(calls) == 1
    # The same shape, short enough for the former scanner: "[a]", then "[b][a]" references,
    # then the last "[b]".
    assert count == len(_old_scan("[a]: u\n" + "[a][b]" * 20).pairs) == 2


def test_oracle_agrees_on_the_documented_cases() -> None:
    for text in ["in the [IN: Indo-Pacific][RU: Asia-Pacific] region",
                 "[The Sides [agreed][decided] to act]",
                 "See [the roadmap](https://example.org/a[1]) and ![flag](img/in.png).",
                 "See [the roadmap][rm] and [rm].\n\n[rm]: https://example.org\n",
                 r"a \[not\] b `x[0]` c ``y]`` d" + "\n```\nz = [1, 2\n```\n",
                 "First [agreed] line\nsecond [open\nthird ] and ] stray",
                 "[a](b\n\nc) [x](y (z) w) `` ` `` [q]", "\\``[a]``` [b] ``",
                 # A link or reference ends inside what would otherwise be one token.
                 "[a](b[c)d]", "[a](b[c)d]]] [e]", "[a][r]]]]\n[r]: u", "[[a][r]]\n[r]: u",
                 "[r]: u\n[[x]]][[r]]] ]", "[a](`)` [b]"]:
        _same_as_oracle(text)


def test_hostile_shapes_give_the_expected_counts() -> None:
    # 80 KB: the former scanner took minutes on the first text; the results are the same.
    n = 20_000
    assert bracket_count("[a](" * n) == n  # no ')' closes a link, so every pair is disputed
    assert bracket_count("[a](" * n + ")" * n) == 0  # the first link holds all the rest
    assert bracket_count("[a]" * n) == n
    assert check("[" * n)[MAX_PROBLEMS - 1] == f"unclosed '[' at line 1, column {MAX_PROBLEMS}"
    assert check("[" * n)[-1] == f"… and {n - MAX_PROBLEMS:,} more unbalanced brackets"
    assert len(check("]" * n)) == MAX_PROBLEMS + 1
    mixed = check("]" * 600 + "[" * 600)
    assert mixed[599:601] == ["unmatched ']' at line 1, column 600",
                              "unclosed '[' at line 1, column 601"]
    assert mixed[-1] == "… and 200 more unbalanced brackets"
    nested = "[" * n + "x" + "]" * n
    assert bracket_count(nested) == n and group_count(nested) == n
    assert parse(nested)[-1].options[0].text == "x"
    assert parse(nested)[0].options[0].text == nested[1:-1]
    assert bracket_count(nested + "\n[x]: u\n") == n - 1  # the innermost is a reference
    assert bracket_count("`" * n + "[a]") == 1
    assert bracket_count("\\[" * n) == 0
    assert check("x]\nab]\n\n]") == ["unmatched ']' at line 1, column 2",
                                     "unmatched ']' at line 2, column 3",
                                     "unmatched ']' at line 4, column 1"]


def test_options_are_immutable_values() -> None:
    option = parse("[IN: x]")[0].options[0]
    assert option == Option("IN", "x", 0, 7)
    assert hash(option) == hash(Option("IN", "x", 0, 7))
    assert option != Option("IN", "y", 0, 7)
    assert "text='x'" in repr(option)
    try:
        option.label = "RU"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("an Option was changed in place")


# The former implementation, character by character and quadratic on hostile input, kept here
# only as the oracle the linear one must agree with on small texts. -------------------------

_LABEL = re.compile(r"([A-Z][A-Z0-9]{1,7}): ")
_BACKTICKS = re.compile(r"`+")
_DEFINITION = re.compile(r"^ {0,3}(\[([^\]\n]+)\]):", re.MULTILINE)


@dataclass(frozen=True)
class _OldScan:
    pairs: list[tuple[int, int]]
    unclosed: list[int]
    unmatched: list[int]


def _old_normal_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def _old_closing_paren(text: str, i: int) -> int | None:
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


def _old_reference_end(text: str, start: int, end: int, defined: set[str]) -> int | None:
    """If the pair text[start:end] is a reference link, the index just past it, else None."""
    if not defined:
        return None
    if text.startswith("[", end):
        close = text.find("]", end + 1)
        if close != -1:
            ref = text[end + 1 : close] or text[start + 1 : end - 1]
            return close + 1 if _old_normal_label(ref) in defined else None
    return end if _old_normal_label(text[start + 1 : end - 1]) in defined else None


def _old_scan(text: str) -> _OldScan:
    definitions = {m.start(1): m.end(1) for m in _DEFINITION.finditer(text)}
    defined = {_old_normal_label(m.group(2)) for m in _DEFINITION.finditer(text)}
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    unmatched: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "`":
            i = _old_code_span_end(text, i)
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
                after = _old_closing_paren(text, i)
                if after is not None:
                    i = after
                    continue
            after = _old_reference_end(text, start, i, defined)
            if after is not None:
                i = after
                continue
            pairs.append((start, i))
        else:
            i += 1
    return _OldScan(pairs, stack, unmatched)


def _old_code_span_end(text: str, i: int) -> int:
    """Index past the code span whose opening backticks start at i (past them if unclosed)."""
    opening = _BACKTICKS.match(text, i)
    assert opening is not None
    for closing in _BACKTICKS.finditer(text, opening.end()):
        # A span closes only on a run of exactly as many backticks as opened it.
        if len(closing.group()) == len(opening.group()):
            return closing.end()
    return opening.end()


def _old_parse(text: str) -> list[BracketGroup]:
    """The disputed-text groups in text, outermost and nested, in order of position."""
    pairs = sorted(_old_scan(text).pairs)
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


def _old_position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _old_check(text: str) -> list[str]:
    """Messages for unbalanced brackets, in order of position; empty when all are balanced."""
    scan = _old_scan(text)
    found = [(i, f"unclosed '[' at {_old_position(text, i)}") for i in scan.unclosed]
    found += [(i, f"unmatched ']' at {_old_position(text, i)}") for i in scan.unmatched]
    return [message for _, message in sorted(found)]




@settings(deadline=None, max_examples=400)
@given(st.text(alphabet="[]ab .\n", max_size=60))
def test_plain_pairs_are_counted_as_the_scanner_counts_them(text: str) -> None:
    # The short cut for texts with no link, code or escape (alternating brackets counted by
    # string searches) gives the scanner's count, alternating or not.
    assert bracket_count(text) == len(_old_scan(text).pairs)


# Plain pairs, counted without the scanner (agenda/pairs.py) ----------------------------------

_PLAINISH = st.one_of(
    st.text(alphabet="[]()`\\ab :\n", max_size=40),
    st.lists(st.tuples(st.text("ab :\n", max_size=5), st.text("ab :\n", max_size=5)),
             max_size=5).map(lambda parts: "".join(f"{a}[{b}]" for a, b in parts)))


@settings(max_examples=500, deadline=None)
@given(_PLAINISH)
def test_a_plain_count_is_the_scans_count_or_declines(text: str) -> None:
    from agenda.brackets import _scan
    from agenda.pairs import plain_count

    count = plain_count(text)
    assert count == -1 or count == len(_scan(text).pairs)


@settings(max_examples=300, deadline=None)
@given(_PLAINISH)
def test_a_revision_counts_its_brackets_as_the_scanner_does(text: str) -> None:
    from datetime import UTC, datetime

    from agenda.model import Code, Revision, Visibility

    revision = Revision("r", "i", 1, "IN", (), text, Code.MOD, "", Visibility.TABLED,
                        datetime(2021, 1, 1, tzinfo=UTC), "h")
    assert revision.brackets == bracket_count(text)


def test_reading_a_summit_of_plain_pairs_leaves_the_scanner_unloaded(tmp_path: Path
                                                                      ) -> None:
    import json
    import subprocess
    import sys

    from agenda.model import Delegation
    from agenda.workspace import NewItem, Workspace

    db = tmp_path / "ws.json"
    ws = Workspace(db, create=True)
    ws.create_summit("Plain", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="s", sections=["One"])
    ws.add_items("s", [NewItem("One", "A", "The [maritime] corridor [and] trade."),
                       NewItem("One", "B", "No brackets."),
                       NewItem("One", "C", "[a][b] options")], delegation="IN")
    ws.close()
    probe = ("import json, sys\nfrom pathlib import Path\n"
             "from agenda.workspace import Workspace\n"
             "state = Workspace(Path(sys.argv[1])).state('s')\n"
             "print(json.dumps([[state.bracket_count(i) for i in state.items],"
             " 'agenda.brackets' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", probe, str(db)], check=True,
                         capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout) == [[2, 0, 2], False]
