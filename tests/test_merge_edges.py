"""The merge cuts the texts' shared edges first: the result must be the whole texts' merge."""

import os
from itertools import accumulate
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from agenda import diff, merge
from agenda.merge import MergeResult, merge_texts
from tests.test_merge import edited_sides

# Repeated punctuation and bare line breaks: the tokens around which an edit's place in a run
# of equal tokens is a tie that the cut could break the other way.
_TIES = ["a", "b", ".", "a,", "\r", "\n"]
_WORDS = ["the", "Sides", "Indo-Pacific", "2030", "  ", "'"]
_token = st.sampled_from(_TIES) | st.sampled_from(_TIES) | st.sampled_from(_TIES) | \
    st.sampled_from(_WORDS)
_edit = st.sampled_from(["repeat", "insert", "insert", "delete", "put"])


@st.composite
def tied_merges(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], bool]:
    """A base and two or three sides, each one or two edits of it near one spot; one side
    first repeats the token there (a run grown by one). Tokens joined by spaces or not.

    A tie only shows where the sides' edits touch: one side grows a run of equal tokens, which
    the whole texts' alignment may place at one end of the run and the cut texts' at the
    other, where another side's edit is.
    """
    space = draw(st.sampled_from([" ", " ", " ", ""]))
    base = draw(st.lists(_token, min_size=2, max_size=6))
    spot = draw(st.integers(0, len(base) - 1))  # before a token: a run to grow
    codes = draw(st.sampled_from([["IN", "RU"], ["IN", "RU"], ["IN", "RU", "CN"]]))
    grower = draw(st.integers(0, len(codes) - 1))
    sides = []
    for k, code in enumerate(codes):
        tokens = list(base)
        kinds = [draw(_edit) for _ in range(draw(st.integers(1, 2)))]
        if k == grower:
            kinds[0] = "repeat"
        for e, kind in enumerate(kinds):
            # The first edit at the spot itself, so that most sides' edits touch.
            at = min(max(spot + (draw(st.integers(-1, 1)) if e else 0), 0), len(tokens))
            if kind == "repeat" and tokens:
                tokens.insert(at, tokens[min(at, len(tokens) - 1)])
            elif kind == "insert":
                tokens.insert(at, draw(_token))
            elif kind == "delete":
                del tokens[at : at + 1]
            else:
                tokens[at : at + 1] = [draw(_token)]
        sides.append((code, space.join(tokens)))
    return space.join(base), sides, draw(st.booleans())


def _whole(base: str, sides: list[tuple[str, str]], agreed: bool) -> MergeResult:
    """The merge with no edge cut: every token of every text tokenised and aligned."""
    with mock.patch.object(merge, "shared_edges", lambda texts: (0, 0)), \
            mock.patch.object(merge, "aligned_edges", lambda texts: (0, 0)):
        return merge_texts(base, sides, agreed_base=agreed)


def _same_with_and_without_the_cut(base: str, sides: list[tuple[str, str]],
                                   agreed: bool) -> None:
    cut = merge_texts(base, sides, agreed_base=agreed)
    whole = _whole(base, sides, agreed)
    assert (cut.text, cut.conflicts) == (whole.text, whole.conflicts)


@settings(deadline=None)
@given(tied_merges())
# The brief's case: a conflict with the old cut, a clean merge of the whole texts.
@example((". \r . a b", [("IN", ". \r . . a b"), ("RU", ". \r \r . a b")], True))
# Found by this test before the fix (shrunk): the cut put IN's grown run at the other end.
@example(("a a", [("IN", "a a a"), ("RU", "b a a")], False))
@example(("b a", [("IN", "b b a"), ("RU", "a b a")], False))
def test_cutting_the_shared_edges_first_changes_nothing(
    case: tuple[str, list[tuple[str, str]], bool],
) -> None:
    _same_with_and_without_the_cut(*case)


def _as_merge(case: tuple[tuple[str, list[tuple[str, str]]], bool],
              ) -> tuple[str, list[tuple[str, str]], bool]:
    (base, sides), agreed = case
    return base, sides, agreed


# Texts too long to align exactly are aligned by lines, then sentences (diff._MAX_CELLS), and
# long middles take the tokens they share with the base's from it (merge._REUSE_FROM): with
# tiny limits every merge here takes those paths, which must not see the cut either.
@settings(deadline=None, max_examples=200)
@given(st.one_of(tied_merges(), st.tuples(edited_sides(), st.booleans()).map(_as_merge)),
       st.sampled_from([None, 4]), st.booleans())
def test_the_cut_changes_nothing_on_any_path(
    case: tuple[str, list[tuple[str, str]], bool], cells: int | None, reuse: bool
) -> None:
    with mock.patch.object(diff, "_MAX_CELLS", cells or diff._MAX_CELLS), \
            mock.patch.object(merge, "_REUSE_FROM", 0 if reuse else merge._REUSE_FROM):
        _same_with_and_without_the_cut(*case)


_texts = st.lists(st.sampled_from([*_TIES, *_WORDS, " ", "Indo", "-", "e\u0301", "\u200d"]),
                  max_size=20).map("".join) | st.text(max_size=20)


@settings(deadline=None)
@given(_texts, _texts)
def test_tokens_taken_beside_the_base_are_the_texts_tokens(base: str, text: str) -> None:
    base_tokens = diff.tokenize(base)
    ends = list(accumulate(map(len, base_tokens)))
    assert merge._tokens_beside(base, base_tokens, ends, text) == diff.tokenize(text)


@settings(deadline=None)
@given(tied_merges())
def test_the_cut_suffix_stays_clear_of_each_sides_shared_start(
    case: tuple[str, list[tuple[str, str]], bool],
) -> None:
    base, sides, _ = case
    distinct = list(dict.fromkeys([base, *(text for _, text in sides)]))
    head, tail = diff.aligned_edges(distinct)
    plain_head, plain_tail = diff.shared_edges(distinct)
    assert head == plain_head and tail <= plain_tail
    for text in distinct:
        # Cut between tokens: the texts' tokens are the edges' and the middle's.
        parts = text[:head], text[head : len(text) - tail], text[len(text) - tail :]
        assert diff.tokenize(text) == [t for part in parts for t in diff.tokenize(part)]
        if text != base:
            start = len(os.path.commonprefix([base, text]))
            assert tail <= min(len(base), len(text)) - start
