"""The word diff gives the very ops (word counts too) of the engine as it was before DIFF4."""

from __future__ import annotations

from contextlib import ExitStack
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import diff as engine
from tests import diff_engine_reference as oracle
from tests.test_diff import edit_pieces, edited_pairs, rebuild, well_formed

# Pieces of short texts: words, spacing the tokenizer joins or not, punctuation that ends a
# sentence or not, line ends, marks and emoji.
short_pieces = st.sampled_from(
    ["Sides", "agreed", "the", "Indo-Pacific", "India's", "2030", "trade", "Стороны", "हिन्दी",
     "👨\u200d👩", "e\u0301", ",", ".", ";", "(", ")", "[", "]", " ", " ", " ", " ", "  ",
     "\t", "\xa0", "\n", "\r\n", "\n\n", " \n", "\r", "-", "'", "_", "x"]
)


def as_tuples(ops: list[object]) -> list[tuple[str, str, int | None]]:
    return [(op.op, op.text, op.words) for op in ops]  # type: ignore[attr-defined]


def same_as_oracle(a: str, b: str, **limits: int) -> None:
    with ExitStack() as stack:
        for name, value in limits.items():
            stack.enter_context(mock.patch.object(engine, name, value))
            if hasattr(oracle, name):
                stack.enter_context(mock.patch.object(oracle, name, value))
        ops = engine.diff_words(a, b)
        expected = oracle.diff_words(a, b)
    assert as_tuples(ops) == as_tuples(expected)
    assert rebuild(ops) == (a, b)
    assert well_formed(ops)


@st.composite
def short_edits(draw: st.DrawFn) -> tuple[str, str]:
    """A short text and the same with a few pieces inserted, deleted or replaced."""
    return edit_pieces(draw, draw(st.lists(short_pieces, max_size=60)), short_pieces, 5)


@settings(deadline=None, max_examples=600)
@given(short_edits())
def test_short_edited_texts_diff_as_the_oracle_does(pair: tuple[str, str]) -> None:
    same_as_oracle(*pair)
    # One line against one takes its own path.
    a, b = (text.replace("\r", " ").replace("\n", "") for text in pair)
    same_as_oracle(a, b)
    # The word flags the process keeps start again when full, mid-diff too.
    same_as_oracle(a, b, _WORDS_KEPT=2)


@settings(deadline=None, max_examples=300)
@given(st.text(st.sampled_from("ab .,;\n\r\t-'é"), max_size=40),
       st.text(st.sampled_from("ab .,;\n\r\t-'é"), max_size=40))
def test_any_short_texts_diff_as_the_oracle_does(a: str, b: str) -> None:
    same_as_oracle(a, b)


@settings(deadline=None, max_examples=150)
@given(st.lists(short_edits(), min_size=1, max_size=6), st.sampled_from(["\n\n", "\n", " "]))
def test_redline_like_sentences_diff_as_the_oracle_does(pairs: list[tuple[str, str]],
                                                        joint: str) -> None:
    same_as_oracle(joint.join(p[0] for p in pairs), joint.join(p[1] for p in pairs))


@settings(deadline=None, max_examples=100)
@given(st.lists(edited_pairs(), min_size=1, max_size=3), st.sampled_from(["\n\n", "\n", " "]),
       st.sampled_from([0, oracle._UNITS_FROM]), st.sampled_from([oracle._SENTENCES_FROM, 50]))
def test_long_edited_texts_diff_as_the_oracle_does(pairs: list[tuple[str, str]], joint: str,
                                                   units_from: int, sentences_from: int) -> None:
    # Both paths of a long block (units, tokens), sentences first or not.
    same_as_oracle(joint.join(p[0] for p in pairs), joint.join(p[1] for p in pairs),
                   _UNITS_FROM=units_from, _SENTENCES_FROM=sentences_from)


def test_the_bench_texts_diff_as_the_oracle_does() -> None:
    import random
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        import bench_diff
    finally:
        sys.path.pop(0)
    rng = random.Random(5)
    paras = [bench_diff.paragraph(rng, 500, bench_diff.VOCAB) for _ in range(24)]
    edited = [bench_diff.edit(rng, p, 0.05) for p in paras]
    for joint in ("\n\n", " "):
        same_as_oracle(joint.join(paras), joint.join(edited))
    for a, b in bench_diff.small_pairs(200):
        same_as_oracle(a, b)


@settings(max_examples=500)
@given(short_edits())
def test_pair_edges_are_aligned_edges(pair: tuple[str, str]) -> None:
    a, b = pair
    assert engine._pair_edges(a, b) == engine.aligned_edges([a, b])
    assert engine._pair_edges(a + a, b + a) == engine.aligned_edges([a + a, b + a])


# Prose pieces a unit of which holds one word, none or two (a dash, a number with a point,
# a double space), so that a side is plain or not; few distinct ones, so that texts share.
prose_pieces = st.sampled_from(["Sides ", "agreed ", "trade ", "the ", "—", "1.5 ", "e.g. ",
                                "  ", ", ", ". ", "\n\n", "Стороны "])


@settings(deadline=None, max_examples=150)
@given(st.lists(prose_pieces, min_size=60, max_size=200),
       st.lists(prose_pieces, min_size=60, max_size=200), st.data())
def test_blocks_plain_or_not_alike_or_not_diff_as_the_oracle_does(
        base: list[str], other: list[str], data: st.DataObject) -> None:
    # The unit path's plain sides (word sums as positions, b's words counted only when they
    # can decide) against the oracle: edited texts, and texts that share little.
    a, b = edit_pieces(data.draw, base, prose_pieces, 30)
    for units_from in (0, oracle._UNITS_FROM):
        same_as_oracle(a, b, _UNITS_FROM=units_from)
        same_as_oracle(a, "".join(other), _UNITS_FROM=units_from)
        same_as_oracle(a, "".join(other) + a, _UNITS_FROM=units_from, _SENTENCES_FROM=50)


def test_the_bench_cases_diff_as_the_oracle_does() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        import bench_diff
    finally:
        sys.path.pop(0)
    for a, b in bench_diff.cases().values():
        assert as_tuples(engine.diff_words(a, b)) == as_tuples(oracle.diff_words(a, b))
