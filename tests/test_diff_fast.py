"""The diff engine's fast paths give what the paths they stand in for give."""

from __future__ import annotations

import re
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import diff as engine
from agenda.diff import (
    Op,
    _alternating_ops,
    _cleanup,
    _count_words,
    _normalise,
    _settle_alternating,
    _units,
    diff_words,
    lines,
)
from tests.test_diff import edited_pairs, rebuild, well_formed

KINDS = ("equal", "delete", "insert")
# Texts that weigh differently in the clean-up: words, wordless bits, a paragraph break.
piece_texts = st.sampled_from(["a", "Sides agreed", " ", ", ", ".", "\n\n", " \n \n", "",
                               "long equal words here", "x"])


def as_tuples(ops: list[Op]) -> list[tuple[str, str, int | None]]:
    return [(op.op, op.text, op.words) for op in ops]


nonempty_texts = piece_texts.filter(bool)


@settings(max_examples=500)
@given(st.lists(st.tuples(piece_texts, st.sampled_from(["", "x", "Sides", " ", "\n\n"]),
                          st.sampled_from(["", "y", "agreed here", ",", "."]))
                .filter(lambda row: row[1] or row[2]), max_size=30),
       piece_texts)
def test_settle_alternating_is_the_cleanup_of_its_ops(
        rows: list[tuple[str, str, str]], last: str) -> None:
    # Equality k, then change k (deleted, inserted; one may be empty), then the last equality.
    eqs = [eq for eq, _, _ in rows] + [last]
    dels = [gone for _, gone, _ in rows]
    inss = [new for _, _, new in rows]
    ops = []
    for eq, gone, new in rows:
        ops += [Op("equal", eq, _count_words(eq)), Op("delete", gone, _count_words(gone)),
                Op("insert", new, _count_words(new))]
    ops.append(Op("equal", last, _count_words(last)))
    *settled, kept = _settle_alternating(eqs, [*map(_count_words, eqs)], dels,
                                         [*map(_count_words, dels)], inss,
                                         [*map(_count_words, inss)])
    expected = _cleanup(_normalise(ops))
    assert as_tuples(_alternating_ops(*settled)) == as_tuples(expected)
    assert kept == sum(op.words or 0 for op in expected if op.op == "equal")


def units_by_setdefault(ids: list[int], cuts: list[int], vocab: dict[tuple[int, ...], int]
                        ) -> list[int]:
    """The former _units: a Python loop over the slices."""
    bounds = [0, *cuts, len(ids)] if not cuts or cuts[-1] != len(ids) else [0, *cuts]
    return [vocab.setdefault(tuple(ids[a:b]), len(vocab))
            for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


@given(st.lists(st.lists(st.integers(0, 3), max_size=30), min_size=1, max_size=3),
       st.data())
def test_units_numbered_in_c_as_by_the_loop(texts: list[list[int]], data: st.DataObject) -> None:
    from collections import defaultdict
    from itertools import count

    fast: defaultdict[tuple[int, ...], int] = defaultdict(count().__next__)
    slow: dict[tuple[int, ...], int] = {}
    for ids in texts:
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(ids))))) if ids else [])
        assert _units(ids, cuts, fast) == units_by_setdefault(ids, cuts, slow)


@given(st.text(alphabet="ab \n\r", max_size=40))
def test_lines_split_in_c_match_the_pattern(text: str) -> None:
    assert lines(text) == re.findall(r"[^\r\n]*+(?:\r\n|\r|\n)|[^\r\n]++", text)


@settings(deadline=None, max_examples=100)
@given(edited_pairs())
def test_a_tidy_block_skips_moving_run_edges_with_the_same_diff(pair: tuple[str, str]) -> None:
    a, b = pair
    with mock.patch.object(engine, "_UNITS_FROM", 0):
        fast = diff_words(a, b)
        with mock.patch.object(engine, "_tidy", lambda *_: False):
            slow = diff_words(a, b)
    assert as_tuples(fast) == as_tuples(slow)
    assert rebuild(fast) == (a, b)


@settings(deadline=None, max_examples=60)
@given(st.lists(edited_pairs(), min_size=2, max_size=4), st.sampled_from(["\n\n", "\n", " \n \n"]))
def test_paragraphs_walled_apart_need_no_last_clean_up(pairs: list[tuple[str, str]],
                                                        joint: str) -> None:
    a = joint.join(p[0] for p in pairs)
    b = joint.join(p[1] for p in pairs)
    with mock.patch.object(engine, "_UNITS_FROM", 0):
        ops = diff_words(a, b)
    assert rebuild(ops) == (a, b)
    assert well_formed(ops)
    # The last clean-up is skipped only where it would change nothing.
    assert as_tuples(_cleanup(ops, normalised=True)) == as_tuples(ops)


short_lines = st.lists(st.sampled_from(["Sides agreed", "trade", ",", " ", ".", "x y", "\t"]),
                       min_size=1, max_size=4).map("".join)


@settings(deadline=None, max_examples=300)
@given(st.lists(st.tuples(short_lines, short_lines, st.booleans()), min_size=2, max_size=8),
       st.sampled_from(["\n", "\n\n", "\n \n"]))
def test_short_changed_lines_are_cleaned_up_across_lines(
        rows: list[tuple[str, str, bool]], joint: str) -> None:
    # Lines kept alike (the flag) between changed ones: small, wordless or walled equalities.
    a = joint.join(x for x, _, _ in rows)
    b = joint.join(x if same else y for x, y, same in rows)
    with mock.patch.object(engine, "_UNITS_FROM", 0):
        ops = diff_words(a, b)
    assert rebuild(ops) == (a, b)
    assert as_tuples(_cleanup(ops, normalised=True)) == as_tuples(ops)


@given(st.sampled_from(KINDS), st.text(max_size=20), st.none() | st.integers(0, 50))
def test_an_op_made_by_its_slots_is_the_op_its_class_makes(kind: str, text: str,
                                                            words: int | None) -> None:
    import dataclasses

    import pytest

    from agenda.diff import _op

    fast, slow = _op(kind, text, words), Op(kind, text, words)  # type: ignore[arg-type]
    assert (fast, hash(fast), repr(fast), fast.words) == (slow, hash(slow), repr(slow), slow.words)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "changed"  # type: ignore[misc]


def test_a_long_chunk_is_noted_and_never_tokenised_by_the_unit_path() -> None:
    from agenda.diff import _LONG_CHUNK, _Units

    units = _Units()
    long = "[a](" * (_LONG_CHUNK // 2)
    codes = units.encode(["Sides", long, "agreed"])
    assert units.long == {codes[1]}
    assert units.tokens[codes[1]] == []  # a 1 MB chunk would cost a tokenizer pass for nothing
    assert units.tokens[codes[0]] == ["Sides", " "]
    # A block that holds it is diffed by the token path, exactly.
    a, b = f"Sides {long} agreed" * 3, f"Sides {long} agreed." * 3
    with mock.patch.object(engine, "_UNITS_FROM", 0):
        assert rebuild(diff_words(a, b)) == (a, b)


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=12), max_size=6))
def test_fresh_keys_read_from_the_end_are_those_past_the_known_ids(batches: list[list[str]]
                                                                   ) -> None:
    from collections import defaultdict
    from itertools import count, islice

    from agenda.diff import _fresh

    ids: defaultdict[str, int] = defaultdict(count().__next__)
    for keys in batches:
        known = len(ids)
        codes = [ids[key] for key in keys]
        fresh = _fresh(ids, known)
        # The walk from the start it replaces, and the keys just encoded whose ids are new.
        assert fresh == list(islice(ids, known, None))
        assert fresh == list(dict.fromkeys(k for k, c in zip(keys, codes, strict=True)
                                           if c >= known))


def by_reference(ca: list[str], cb: list[str], ia: list[int], ib: list[int],
                 units: engine._Units, length_b: int) -> engine.Alternating | None:
    """The unit path as it was: the block's own units encoded again, pieces settled after
    (its ops put in alternating form, as _by_units gives them)."""
    from tests import diff_reference

    ops = diff_reference.by_units(" ".join(ca), " ".join(cb), units)
    if ops is None:
        return None
    gathered = engine._Gathered()
    for op in ops:
        gathered.push(op.op, op.text, op.words)
    return ([*gathered.eqs, gathered.pend], [*gathered.eq_w, gathered.pend_w], gathered.dels,
            gathered.del_w, gathered.inss, gathered.ins_w)


@settings(deadline=None, max_examples=150)
@given(st.lists(edited_pairs(), min_size=1, max_size=3), st.sampled_from(["\n\n", "\n", " "]),
       st.sampled_from([engine._SENTENCES_FROM, 50]))
def test_the_unit_path_gives_the_ops_it_gave_piece_by_piece(
        pairs: list[tuple[str, str]], joint: str, sentences_from: int) -> None:
    # Blocks of a text encoded together, changes gathered as they come and settled over
    # lists: the very ops (words too) of encoding each block alone and settling pieces.
    a = joint.join(p[0] for p in pairs)
    b = joint.join(p[1] for p in pairs)
    with mock.patch.object(engine, "_UNITS_FROM", 0), \
            mock.patch.object(engine, "_SENTENCES_FROM", sentences_from):
        fast = diff_words(a, b)
        with mock.patch.object(engine, "_by_units", by_reference):
            slow = diff_words(a, b)
    assert as_tuples(fast) == as_tuples(slow)
    assert rebuild(fast) == (a, b)


@given(st.lists(st.lists(st.sampled_from(["Sides", "a,", "", "\tb", "c.", "x" * 1030, "d\n",
                                          "\xa0e", "f?\n", "\u3000"]),
                         min_size=1, max_size=8), max_size=5))
def test_units_encoded_together_are_those_encoded_one_by_one(splits: list[list[str]]) -> None:
    together, alone = engine._Units(), engine._Units()
    assert together.encode_many(splits) == [alone.encode(split) for split in splits]
    for name in ("words", "clean", "tokens", "ends", "unclean", "odd", "long", "special"):
        assert getattr(together, name) == getattr(alone, name)
    assert dict(together.ids) == dict(alone.ids)
    # Each unit's flags by the rule they stand for, on its text (the chunk and its space, or
    # the last chunk alone).
    for key, code in together.ids.items():
        text = key[0] if isinstance(key, tuple) else key + " "
        assert together.clean[code] == (not text or text[0] not in engine._RUN_ON)
        assert together.ends[code] == (text.rstrip()[-1:] in engine._SENTENCE_ENDS)
        assert (code in together.long) == (
            len(key[0] if isinstance(key, tuple) else key) > engine._LONG_CHUNK)


@given(st.text(st.sampled_from("ab1_ .,;-'\n\té\u0301\u200d👨"), max_size=60))
def test_a_text_holds_at_most_half_its_characters_and_one_in_words(text: str) -> None:
    # _by_units reads b's words as that many when it weighs a block: a word is one character
    # at least, and the next one starts after another.
    words = sum(map(engine.is_word, engine.tokenize(text)))
    assert words <= (len(text) + 1) // 2
    assert words == _count_words(text)


@given(st.text(st.sampled_from("ab  \n\t"), max_size=40), st.text(st.sampled_from("ab  \n"),
                                                                   max_size=40))
def test_chunks_cut_first_are_those_counted_first(a: str, b: str) -> None:
    from agenda.diff import _unit_chunks

    with mock.patch.object(engine, "_SPLIT_FIRST", -1):
        counted = _unit_chunks(a, b)
    with mock.patch.object(engine, "_SPLIT_FIRST", 1 << 30):
        cut = _unit_chunks(a, b)
    assert cut == counted
    with mock.patch.object(engine, "_MAX_CELLS", 6), mock.patch.object(engine, "_SPLIT_FIRST",
                                                                        1 << 30):
        assert (_unit_chunks(a, b) is None) == ((a.count(" ") + 1) * (b.count(" ") + 1) > 6
                                                or counted is None)


@given(st.lists(st.booleans(), max_size=40), st.data())
def test_sentence_cuts_from_bytes_are_the_compressed_positions(ends: list[bool],
                                                               data: st.DataObject) -> None:
    from itertools import compress, count

    from agenda.diff import _pick, _sentence_cuts_of

    ids = data.draw(st.lists(st.integers(0, len(ends) - 1), max_size=60)) if ends else []
    assert _sentence_cuts_of(ends, ids) == list(compress(count(1), map(ends.__getitem__, ids)))
    assert list(_pick(ends, ids)) == [ends[i] for i in ids]


@given(st.lists(st.sampled_from(["Sides", "a,", "", "\tb", "c.", "\xa0e", "\u3000", "\t",
                                 "d\n", "x\u0301", "👨\u200d👩", "f;", "\x85z", "\u2028", "\u0301",
                                 "\r", "\x1c"]), min_size=1, max_size=12),
       st.data())
def test_a_span_s_tokens_are_its_text_s(chunks: list[str], data: st.DataObject) -> None:
    # _span_tokens joins a unit that is not clean to the spacing before it, as the
    # tokenizer reads the span's text (the chunks joined by the spaces they were cut at).
    from agenda.diff import _span_tokens, _units_text, tokenize

    units = engine._Units()
    ids = units.encode(chunks)
    lo = data.draw(st.integers(0, len(chunks) - 1))
    hi = data.draw(st.integers(lo + 1, len(chunks)))
    expected = tokenize(_units_text(chunks, lo, hi))
    assert _span_tokens(units, ids, lo, hi, False) == expected
    if all(units.clean[unit] for unit in ids[lo + 1 : hi]):
        assert _span_tokens(units, ids, lo, hi, True) == expected
