"""Hostile texts through the tokenizer, the diff and the merge: exact results, bounded work.

Time itself is measured in bench/bench_hostile_diff.py; here the work is bounded by what the
engine may ask of the LCS (never more than _MAX_CELLS token pairs at once), and the coarse
paths that keep huge texts linear are forced on small texts by lowering the limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel

from agenda import diff as engine
from agenda.diff import (
    Op,
    diff_lines,
    diff_stats,
    diff_words,
    is_word,
    matching_blocks,
    shared_edges,
    tokenize,
)
from agenda.marks import MARKS
from agenda.merge import merge_texts

# The tokenizer as first written: the specification that the fast pattern must equal.
_EMOJI_GLUE = "\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f" + MARKS
_WORD = rf"(?:\w|[{MARKS}\u200c\u200d])+"
REFERENCE_TOKEN = re.compile(
    r"\r\n|\r|\n"
    r"|[^\S\r\n]+"
    rf"|{_WORD}(?:[-\u2010\u2011'\u2019]{_WORD})*"
    r"|[\U0001f1e6-\U0001f1ff]{2}"
    rf"|[^\w\s](?:\u200d[^\w\s\u200d]|[{_EMOJI_GLUE}])*"
)
REFERENCE_WORD = re.compile(rf"(?:\w|[{MARKS}])")

# Units that pathological texts repeat: brackets, lone punctuation, joiners, marks (basic and
# astral), ZWJ, skin tones, flags, line ends, spacing, words.
UNITS = ["[a](", "(", ")", "[", "]", ".", ". ", "a", "word", "-", "'", "/", "_", "\u093f",
         "\U0001d165", "\U000e0100", "\u200d", "\u200c", "👍", "🏽", "🇮", "🇳", "\r", "\n",
         "\r\n", " ", "\t", "\x0b", "क", "Стороны", ";", "?", "!", "x’y", "\u2010", "🏴\U000e0067"]

unit_runs = st.lists(
    st.tuples(st.sampled_from(UNITS), st.integers(min_value=1, max_value=40)), max_size=12
).map(lambda runs: "".join(unit * n for unit, n in runs))
hostile = st.one_of(unit_runs, st.text(max_size=60), st.lists(
    st.one_of(st.sampled_from(UNITS), st.characters()), max_size=80).map("".join))


def rebuild(ops: list[Op]) -> tuple[str, str]:
    return ("".join(o.text for o in ops if o.op != "insert"),
            "".join(o.text for o in ops if o.op != "delete"))


def well_formed(ops: list[Op]) -> bool:
    return all(o.text for o in ops) and all(
        x.op != y.op and not (x.op == "insert" and y.op == "delete")
        for x, y in zip(ops, ops[1:], strict=False)
    )


@contextmanager
def tiny_limits() -> Iterator[None]:
    """Limits so low that small texts take the paths meant for megabytes."""
    with mock.patch.object(engine, "_MAX_CELLS", 12), mock.patch.object(engine, "_TRIM_FROM", 8):
        yield


@settings(deadline=None, max_examples=200)
@given(hostile)
def test_the_fast_tokenizer_is_the_reference_one(text: str) -> None:
    assert tokenize(text) == REFERENCE_TOKEN.findall(text)
    assert [is_word(t) for t in tokenize(text)] == [
        REFERENCE_WORD.match(t) is not None for t in tokenize(text)
    ]


@settings(deadline=None)
@given(hostile, hostile)
def test_word_diff_is_exact_on_hostile_texts(a: str, b: str) -> None:
    for limits in (nullcontext(), tiny_limits()):
        with limits:
            ops = diff_words(a, b)
            assert rebuild(ops) == (a, b)
            assert well_formed(ops)
            lines = diff_lines(a, b)
            assert rebuild(lines) == (a, b)
            assert well_formed(lines)


@settings(deadline=None)
@given(hostile, hostile)
def test_words_counted_as_ops_are_made_match_a_recount(a: str, b: str) -> None:
    for limits in (nullcontext(), tiny_limits()):
        with limits:
            ops = diff_words(a, b)
        for op in ops:
            if op.words is not None:
                assert op.words == sum(map(is_word, tokenize(op.text)))
        recounted = [Op(op.op, op.text) for op in ops]
        assert diff_stats(ops) == diff_stats(recounted)


@settings(deadline=None)
@given(st.lists(hostile, min_size=2, max_size=4), hostile, hostile)
def test_shared_edges_cut_between_tokens(texts: list[str], head: str, tail: str) -> None:
    texts = [head + t + tail for t in texts]
    prefix, suffix = shared_edges(texts)
    first = texts[0]
    for t in texts:
        assert prefix + suffix <= len(t)
        assert t[:prefix] == first[:prefix]
        assert t[len(t) - suffix :] == first[len(first) - suffix :]
        pieces = (t[:prefix], t[prefix : len(t) - suffix], t[len(t) - suffix :])
        assert [tok for p in pieces for tok in tokenize(p)] == tokenize(t)


def test_shared_edges_find_a_cut_in_a_text_without_spaces() -> None:
    base = "[a](" * 5000
    edited = base[:10_000] + "X" + base[10_001:]
    prefix, suffix = shared_edges([base, edited])
    assert 9_700 < prefix <= 10_000
    assert 9_700 < suffix <= 10_000


@settings(deadline=None)
@given(hostile, hostile)
def test_matching_blocks_are_real_matches_within_the_limit(a: str, b: str) -> None:
    ta, tb = tokenize(a), tokenize(b)
    with tiny_limits():
        blocks = matching_blocks(ta, tb)
    ai = bi = 0
    for i, j, n in blocks:
        assert n > 0 and i >= ai and j >= bi
        assert ta[i : i + n] == tb[j : j + n]
        ai, bi = i + n, j + n


@settings(deadline=None)
@given(hostile, hostile, hostile)
def test_merge_of_hostile_texts_keeps_the_merge_rules(base: str, a: str, b: str) -> None:
    for limits in (nullcontext(), tiny_limits()):
        with limits:
            assert merge_texts(base, {"IN": base, "RU": a}).text == a
            assert merge_texts(base, {"IN": b, "RU": base}).text == b
            assert merge_texts(base, {"IN": a, "RU": a}).clean


def _recording_lcs() -> tuple[list[int], object]:
    cells: list[int] = []
    real = Indel.opcodes

    def opcodes(x: list[int], y: list[int]) -> object:
        cells.append(len(x) * len(y))
        return real(x, y)

    return cells, opcodes


PATHOLOGICAL = {
    "one char": "a" * 60_000,
    "lone punctuation": "." * 60_000,
    "[a](": "[a](" * 15_000,
    "nested": "(" * 30_000 + ")" * 30_000,
    "giant word": ("x" * 999 + "-") * 60,
    "no spaces": "word." * 12_000,
    "tiny lines": "a\n" * 30_000,
    "combining marks": "क" + "\u093f" * 59_999,
}


def test_pathological_texts_never_ask_the_lcs_for_more_than_the_limit() -> None:
    cells, opcodes = _recording_lcs()
    with mock.patch.object(engine, "_MAX_CELLS", 4_000_000), \
            mock.patch.object(Indel, "opcodes", opcodes):
        for name, text in PATHOLOGICAL.items():
            mid = len(text) // 2
            ends = "Z" + text[1:-1] + "Z"
            middle = text[:mid] + " X " + text[mid + 3 :]
            for a, b in ((text, ends), (text, middle), ("", text), (text, "(b)[" * 15_000)):
                assert rebuild(diff_words(a, b)) == (a, b)
            result = merge_texts(text, {"IN": ends, "RU": middle})
            # Edits at both ends and in the middle do not touch: merged cleanly once the
            # shared stretches between them are found, else left in conflict, never lost.
            # (In a repeated text either copy of a character may be the one edited.)
            merged = result.text
            assert (result.conflicts >= 1
                    or (merged[0] == merged[-1] == "Z" and " X " in merged
                        and len(merged) == len(text))), name
    assert cells and max(cells) <= 4_000_000


# Prose as the chunked tokenizer sees it: chunks of any characters, mostly joined by one space.
prose_chunks = st.lists(st.one_of(st.sampled_from(UNITS + ["Indo-Pacific", "don’t", "\n", "\r\n",
                                                           "\u200d", "\U0001f1ee\U0001f1f3"]),
                                  st.text(max_size=6)), max_size=30)


@settings(deadline=None, max_examples=300)
@given(prose_chunks, st.sampled_from([" ", " ", " ", "  ", "\t", "\u00a0", "\n"]))
def test_the_chunked_tokenizer_is_the_reference_one(chunks: list[str], space: str) -> None:
    text = space.join(chunks)
    with mock.patch.object(engine, "_CHUNKED_FROM", 0):  # every text through the chunks
        assert tokenize(text) == REFERENCE_TOKEN.findall(text)


@settings(deadline=None, max_examples=300)
@given(prose_chunks, prose_chunks, prose_chunks)
# The block "a a \r" / "a \r": its shared suffix " \r" overlapped the shared start "a ", and
# the middle then deleted " a" where the whole block deletes "a ".
@example(["a"], ["a", "\r", "\r"], [])
def test_cutting_shared_edges_first_changes_no_op(head: list[str], middle: list[str],
                                                  tail: list[str]) -> None:
    """A changed block's shared edges are cut off before it is tokenised: the ops are the
    ones the whole block gives (word counts included)."""
    a = " ".join([*head, *middle, *tail])
    b = " ".join([*head, *reversed(middle), "new", *tail])

    def whole_blocks(texts: list[str]) -> tuple[int, int]:
        return (0, 0) if len(texts) == 2 else real(texts)

    real = engine.shared_edges
    with mock.patch.object(engine, "shared_edges", whole_blocks):
        expected = diff_words(a, b)
    ops = diff_words(a, b)
    assert ops == expected
    assert [engine._words(o) for o in ops] == [engine._words(o) for o in expected]


# A few edits (position, length cut, text put in) of a long text made of hostile units.
edits = st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 3),
                           st.sampled_from(["", "Z", " X ", ".", "\u200d", "\u093f", "\n"])),
                 min_size=1, max_size=4)


def edited(text: str, changes: list[tuple[float, int, str]]) -> str:
    for at, cut, put in changes:
        i = int(at * len(text))
        text = text[:i] + put + text[i + cut :]
    return text


def edited_texts(shortest: int) -> st.SearchStrategy[tuple[str, str]]:
    """A long text repeating a few hostile units, and a copy with a few edits."""
    return st.tuples(st.lists(st.sampled_from(UNITS), min_size=1, max_size=6),
                     st.integers(shortest, shortest + 350), edits).map(
        lambda t: ("".join(t[0]) * t[1], edited("".join(t[0]) * t[1], t[2])))


@settings(deadline=None, max_examples=200)
@given(edited_texts(100))
@example(("\u093f\u2010" * 100, "." + "\u093f\u2010" * 100))
def test_few_edits_finds_a_shortest_edit_script(texts: tuple[str, str]) -> None:
    a, b = texts
    for x, y in ((a, b), tuple(map(tokenize, (a, b)))):
        blocks = engine._few_edits(x, y)
        if blocks is None:
            # At most 4 edits of at most 3 characters each, so the characters never give up;
            # one edit can re-tokenise a whole run, though (a '.' before a bare combining mark
            # splits one hyphenated token into a hundred), and past its edit count the search
            # must give up.
            assert not isinstance(x, str) and Indel.distance(x, y) > engine._FEW_EDITS
            continue
        ai = bi = 0
        for i, j, k in blocks:
            assert i >= ai and j >= bi and k > 0 and x[i : i + k] == y[j : j + k]
            ai, bi = i + k, j + k
        assert len(x) + len(y) - 2 * sum(k for _, _, k in blocks) == Indel.distance(x, y)


def test_few_edits_gives_up_past_its_edit_count() -> None:
    a = "ab" * 500
    b = "".join(c.upper() if i % 10 == 0 else c for i, c in enumerate(a))
    assert engine._few_edits(a, b, max_d=20) is None


@settings(deadline=None, max_examples=200)
@given(edited_texts(150))
def test_anchored_pieces_are_cut_between_tokens(texts: tuple[str, str]) -> None:
    a, b = texts
    pieces = engine._anchored(a, b)
    if pieces is None:
        return
    assert "".join(pa for _, pa, _ in pieces) == a
    assert "".join(pa if equal else pb for equal, pa, pb in pieces) == b
    # Each piece tokenised alone gives the text's own tokens: the cuts are between tokens.
    assert [t for _, pa, _ in pieces for t in tokenize(pa)] == tokenize(a)
    assert [t for equal, pa, pb in pieces for t in tokenize(pa if equal else pb)] == tokenize(b)


@pytest.mark.parametrize("name", ["tiny lines", "lone punctuation", "[a](", "no spaces"])
def test_a_long_text_edited_at_both_ends_keeps_its_middle(name: str) -> None:
    text = PATHOLOGICAL[name] * 2
    ends = "Z" + text[1:-1] + "Z"
    ops = diff_words(text, ends)
    assert rebuild(ops) == (text, ends)
    # Before, nothing anchored the middle: the whole text read as replaced. Now the middle is
    # found; what the clean-up then absorbs (a stretch without a word) is its rule's business.
    kept = sum(len(op.text) for op in ops if op.op == "equal")
    if name in ("tiny lines", "[a](", "no spaces"):
        assert kept >= len(text) - 1000
