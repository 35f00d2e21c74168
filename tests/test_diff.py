"""Tests for the word/line diff engine and its renderers."""

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda.diff import (
    DiffStats,
    Op,
    diff,
    diff_lines,
    diff_stats,
    diff_words,
    similarity,
    tokenize,
)
from agenda.diff_render import (
    ops_to_json,
    render_ansi,
    render_critic,
    render_html,
    render_unified,
    render_word,
    side_by_side,
)
from agenda.text import inert

# Arbitrary characters mixed with the pieces that break naive tokenizers: line ends, combining
# marks, ZWJ emoji, flags, and real words so that diffs have something in common.
texts = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(["\r\n", "\r", "\n", " ", "हि", "ि", "्", "👨\u200d👩", "🇮🇳", "\u200d"]),
        st.sampled_from(["the", "Sides", "agreed", "2030", ",", ".", "Стороны"]),
    ),
    max_size=40,
).map("".join)


def rebuild(ops: list[Op]) -> tuple[str, str]:
    a = "".join(o.text for o in ops if o.op != "insert")
    b = "".join(o.text for o in ops if o.op != "delete")
    return a, b


def well_formed(ops: list[Op]) -> bool:
    no_empty = all(o.text for o in ops)
    no_repeat = all(x.op != y.op for x, y in zip(ops, ops[1:], strict=False))
    no_insert_then_delete = all(
        not (x.op == "insert" and y.op == "delete") for x, y in zip(ops, ops[1:], strict=False)
    )
    return no_empty and no_repeat and no_insert_then_delete


@settings(deadline=None)
@given(texts)
def test_tokenize_round_trips(text: str) -> None:
    assert "".join(tokenize(text)) == text


@settings(deadline=None)
@given(texts, texts)
def test_word_diff_rebuilds_both_texts(a: str, b: str) -> None:
    ops = diff_words(a, b)
    assert rebuild(ops) == (a, b)
    assert well_formed(ops)


@settings(deadline=None)
@given(texts, texts)
def test_line_diff_rebuilds_both_texts(a: str, b: str) -> None:
    ops = diff_lines(a, b)
    assert rebuild(ops) == (a, b)
    assert well_formed(ops)


@settings(deadline=None)
@given(texts)
def test_diff_of_a_text_with_itself_is_all_equal(a: str) -> None:
    assert diff(a, a) == ([Op("equal", a)] if a else [])
    assert diff_stats(diff(a, a)).similarity == 1.0


@settings(deadline=None)
@given(texts, texts)
def test_side_by_side_keeps_every_segment(a: str, b: str) -> None:
    rows = side_by_side(diff_words(a, b))
    left = "".join(o.text for r in rows for o in r.left)
    right = "".join(o.text for r in rows for o in r.right)
    assert left == a.replace("\r\n", "").replace("\r", "").replace("\n", "")
    assert right == b.replace("\r\n", "").replace("\r", "").replace("\n", "")


def test_devanagari_words_stay_whole() -> None:
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", " ", "भाषा"]


def test_emoji_sequences_stay_whole() -> None:
    assert tokenize("👨\u200d👩\u200d👧 👍🏽 🇮🇳🇷🇺") == [
        "👨\u200d👩\u200d👧",
        " ",
        "👍🏽",
        " ",
        "🇮🇳",
        "🇷🇺",
    ]


def test_line_ends_are_tokens_of_their_own() -> None:
    assert tokenize("a\r\n  b\rc\n") == ["a", "\r\n", "  ", "b", "\r", "c", "\n"]


SUMMIT_A = (
    "The Sides agreed to launch the Chennai–Vladivostok maritime corridor by 2022 "
    "and welcomed progress in the Indo-Pacific."
)
SUMMIT_B = (
    "The Sides agreed to operationalise the Chennai–Vladivostok maritime corridor by 2024 "
    "and welcomed progress in the Asia-Pacific."
)


def test_golden_joint_statement_word_diff() -> None:
    assert diff_words(SUMMIT_A, SUMMIT_B) == [
        Op("equal", "The Sides agreed to "),
        Op("delete", "launch"),
        Op("insert", "operationalise"),
        Op("equal", " the Chennai–Vladivostok maritime corridor by "),
        Op("delete", "2022"),
        Op("insert", "2024"),
        Op("equal", " and welcomed progress in the "),
        Op("delete", "Indo-Pacific"),
        Op("insert", "Asia-Pacific"),
        Op("equal", "."),
    ]


def test_hyphenated_and_elided_compounds_are_one_word() -> None:
    assert tokenize("Indo-Pacific India's co\u2011op 2021–2031 well- known") == [
        "Indo-Pacific", " ", "India's", " ", "co\u2011op", " ", "2021", "–", "2031", " ",
        "well", "-", " ", "known"]


def test_replaced_phrase_reads_as_one_delete_then_one_insert() -> None:
    ops = diff_words("We reaffirm a strong commitment.", "We note a modest interest.")
    assert ops == [
        Op("equal", "We "),
        Op("delete", "reaffirm a strong commitment"),
        Op("insert", "note a modest interest"),
        Op("equal", "."),
    ]


def test_cyrillic_word_diff() -> None:
    ops = diff_words(
        "Стороны договорились о сотрудничестве.", "Стороны договорились о партнёрстве."
    )
    assert ops == [
        Op("equal", "Стороны договорились о "),
        Op("delete", "сотрудничестве"),
        Op("insert", "партнёрстве"),
        Op("equal", "."),
    ]


def test_devanagari_word_diff_changes_whole_words() -> None:
    ops = diff_words("हिन्दी भाषा में", "हिन्दी बोली में")
    assert ops == [
        Op("equal", "हिन्दी "),
        Op("delete", "भाषा"),
        Op("insert", "बोली"),
        Op("equal", " में"),
    ]


def test_emoji_change() -> None:
    assert diff_words("ok 👍🏽 go", "ok 👎 go") == [
        Op("equal", "ok "),
        Op("delete", "👍🏽"),
        Op("insert", "👎"),
        Op("equal", " go"),
    ]


def test_crlf_and_lone_cr_are_kept() -> None:
    a = "first line\r\nsecond line\rthird\n"
    b = "first line\r\nsecond row\rthird\n"
    ops = diff_words(a, b)
    assert ops == [
        Op("equal", "first line\r\nsecond "),
        Op("delete", "line"),
        Op("insert", "row"),
        Op("equal", "\rthird\n"),
    ]
    assert diff_words("a\r\n", "a\n") == [
        Op("equal", "a"),
        Op("delete", "\r\n"),
        Op("insert", "\n"),
    ]


def test_line_mode() -> None:
    assert diff("a\nb\nc\n", "a\nB\nc\n", mode="line") == [
        Op("equal", "a\n"),
        Op("delete", "b\n"),
        Op("insert", "B\n"),
        Op("equal", "c\n"),
    ]


def test_unrelated_paragraphs_read_as_replaced() -> None:
    a = "Energy cooperation remains a pillar of the partnership between the two countries."
    b = "Both delegations will meet again in Moscow next spring to review the roadmap."
    assert diff_words(a, b) == [Op("delete", a[:-1]), Op("insert", b[:-1]), Op("equal", ".")]


def test_long_unrelated_paragraphs_read_as_replaced() -> None:
    a = " ".join(f"alpha{i} beta{i} gamma{i} of the" for i in range(30))
    b = " ".join(f"delta{i} zeta{i} of the" for i in range(30))
    assert diff_words(a, b) == [Op("delete", a), Op("insert", b)]


def test_long_similar_text_is_exact() -> None:
    words = [f"w{i % 97}" for i in range(6000)]
    a = " ".join(words)
    edited = list(words)
    for i in range(0, 6000, 50):
        edited[i] = "CHANGED"
    ops = diff_words(a, " ".join(edited))
    stats = diff_stats(ops)
    assert stats.words_changed == 120
    assert stats.words_added == stats.words_deleted == 0


def test_stats() -> None:
    ops = [Op("equal", "a b "), Op("delete", "c d e"), Op("insert", "x"), Op("insert", "")]
    assert diff_stats([Op("equal", "a b "), Op("delete", "c d e"), Op("insert", "x")]) == DiffStats(
        words_added=0, words_deleted=2, words_changed=1, similarity=2 * 2 / (5 + 3)
    )
    assert diff_stats(ops[:2] + [Op("equal", " z")]).words_deleted == 3
    assert diff_stats([]).similarity == 1.0
    assert similarity("", "") == 1.0
    assert similarity("same words", "same words") == 1.0
    assert similarity("one", "two") == 0.0


def test_render_critic() -> None:
    ops = [
        Op("equal", "a "),
        Op("delete", "b"),
        Op("insert", "c"),
        Op("equal", " d "),
        Op("delete", "e"),
        Op("equal", " "),
        Op("insert", "f"),
    ]
    assert render_critic(ops) == "a {~~b~>c~~} d {--e--} {++f++}"


def test_render_word_uses_no_square_brackets() -> None:
    ops = diff_words("by 2030 in the region", "by 2035 in the region")
    out = render_word(ops)
    assert out == "by {-2030-}{+2035+} in the region"
    assert "[" not in out and "]" not in out


def test_render_word_keeps_user_brackets_only() -> None:
    out = render_word(diff_words("[IN: a] text", "[IN: a] texts"))
    assert out.count("[") == 1 and out.count("]") == 1


def test_render_html_escapes_user_text() -> None:
    ops = [
        Op("equal", "<b>x</b> & "),
        Op("delete", "<script>alert(1)</script>"),
        Op("insert", '"q"'),
    ]
    out = render_html(ops)
    assert out == (
        "&lt;b&gt;x&lt;/b&gt; &amp; <del>&lt;script&gt;alert(1)&lt;/script&gt;</del>"
        "<ins>&quot;q&quot;</ins>"
    )
    assert "<script>" not in out
    assert (
        html.unescape(
            out.replace("<del>", "")
            .replace("</del>", "")
            .replace("<ins>", "")
            .replace("</ins>", "")
        )
        == '<b>x</b> & <script>alert(1)</script>"q"'
    )


def test_render_ansi_never_passes_raw_escapes() -> None:
    ops = [Op("equal", "ok \x1b]0;pwned\x07 "), Op("delete", "\x1b[2Jold"), Op("insert", "new\x9b")]
    out = render_ansi(ops)
    assert out == ("ok \\x1b]0;pwned\\x07 \x1b[31;9m\\x1b[2Jold\x1b[0m\x1b[32;4mnew\\x9b\x1b[0m")
    user_part = out.replace("\x1b[31;9m", "").replace("\x1b[32;4m", "").replace("\x1b[0m", "")
    assert "\x1b" not in user_part


def test_inert() -> None:
    assert inert("a\tb\nc\r\nd") == "a\tb\nc\r\nd"
    assert inert("x\ry\x00\x7f\x85\x1b[1m") == "x\\x0dy\\x00\\x7f\\x85\\x1b[1m"
    assert inert("हिन्दी 👍🏽") == "हिन्दी 👍🏽"


def test_ops_to_json() -> None:
    assert ops_to_json([Op("equal", "a"), Op("insert", "b")]) == [
        {"op": "equal", "text": "a"},
        {"op": "insert", "text": "b"},
    ]


def test_side_by_side_rows() -> None:
    rows = side_by_side(diff_words("a\nb c\nd\n", "a\nb x\nd\nnew\n"))
    assert [(r.left, r.right) for r in rows] == [
        ((Op("equal", "a"),), (Op("equal", "a"),)),
        ((Op("equal", "b "), Op("delete", "c")), (Op("equal", "b "), Op("insert", "x"))),
        ((Op("equal", "d"),), (Op("equal", "d"),)),
        ((), (Op("insert", "new"),)),
    ]


def test_render_unified() -> None:
    a = "".join(f"{c}\n" for c in "abcdefghij")
    b = a.replace("d\n", "X\n") + "k"
    assert render_unified(a, b, from_label="v1", to_label="v2") == (
        "--- v1\n+++ v2\n@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+X\n e\n f\n g\n h\n i\n j\n"
        "+k\n\\ No newline at end of file\n"
    )
    assert render_unified(a, a) == ""


def test_render_unified_separates_distant_hunks() -> None:
    a = "".join(f"{i}\n" for i in range(20))
    b = a.replace("\n2\n", "\ntwo\n").replace("17\n", "seventeen\n")
    out = render_unified(a, b, context=1)
    assert out == (
        "--- a\n+++ b\n@@ -2,3 +2,3 @@\n 1\n-2\n+two\n 3\n@@ -17,3 +17,3 @@\n 16\n-17\n"
        "+seventeen\n 18\n"
    )


def test_replaced_paragraphs_stay_apart() -> None:
    a = "\n\n".join(" ".join(f"alpha{p}x{i}" for i in range(50)) for p in range(3))
    b = "\n\n".join(" ".join(f"omega{p}x{i}" for i in range(50)) for p in range(3))
    ops = diff_words(a, b)
    assert [o.op for o in ops] == ["delete", "insert", "equal"] * 2 + ["delete", "insert"]
    assert [o.text for o in ops if o.op == "equal"] == ["\n\n", "\n\n"]


def test_the_generated_marks_table_matches_this_pythons_unicode() -> None:
    import unicodedata

    import pytest

    from agenda.diff import scan_marks
    from agenda.marks import MARKS, UNIDATA_VERSION

    if unicodedata.unidata_version != UNIDATA_VERSION:
        pytest.skip(f"marks.py is for Unicode {UNIDATA_VERSION}; diff.py scans at run time")
    assert scan_marks() == MARKS, "regenerate agenda/marks.py from diff.scan_marks()"


# Prose of many words, so that blocks are long enough to be weighed as alike or not.
prose = st.lists(
    st.one_of(
        st.sampled_from(["Sides", "agreed", "corridor", "Indo-Pacific", "India's", "2030",
                         "trade", "energy", "summit", "the", "of", "Стороны", "co\u2011op"]),
        st.sampled_from([" ", " ", " ", "  ", "\n", "\r\n", "\n\n", "\t", ", ", ". ", "; "]),
    ),
    min_size=0,
    max_size=160,
).map("".join)


@settings(deadline=None)
@given(prose, prose)
def test_the_early_look_at_unrelated_blocks_changes_no_diff(a: str, b: str) -> None:
    from unittest import mock

    from agenda import diff as engine

    with mock.patch.object(engine, "_GLANCE_ALIKE", 0.0):  # every block goes to the tokenizer
        slow = diff_words(a, b)
    with mock.patch.object(engine, "_GLANCE_ALIKE", 2.0):  # every block gets the early look
        fast = diff_words(a, b)
    assert fast == slow
    assert diff_stats(fast) == diff_stats(slow)


def test_unrelated_paragraphs_are_settled_before_tokenising() -> None:
    from unittest import mock

    from agenda import diff as engine

    a = "\n" + " ".join(f"alpha{i} beta{i} gamma{i}, and" for i in range(30)) + " \n"
    b = "\n" + " ".join(f"delta{i} zeta{i}. and" for i in range(30)) + "\n"
    with mock.patch.object(engine, "tokenize", wraps=engine.tokenize) as spy:
        ops = diff_words(a, b)
    assert all(len(call.args[0]) < 3 for call in spy.call_args_list)  # only edge spacing
    assert ops == [Op("equal", "\n"), Op("delete", a[1:-1]), Op("insert", b[1:-1]),
                   Op("equal", "\n")]
    assert diff_stats(ops) == DiffStats(0, 30, 90, 2 * 0 / (120 + 90))


# Long blocks go through the unit path (aligned by space-separated chunks, tokenised only where
# they differ); these pieces put awkward spacing at the cuts between chunks.
unit_pieces = st.sampled_from(
    ["Sides", "agreed", "Indo-Pacific", "India's", "2030", "trade", "Стороны", "हिन्दी",
     "👨\u200d👩", "e\u0301", ",", ".", " ", " ", " ", " ", "  ", "\t", " \t", "\xa0", "\u3000",
     "\n", "\r\n", "\n\n", " \n", "\r"]
)


def edit_pieces(draw: st.DrawFn, base: list[str], pieces: st.SearchStrategy[str],
                most: int) -> tuple[str, str]:
    """The text of `base`, and the same with up to `most` pieces inserted, deleted or replaced."""
    edited = list(base)
    for _ in range(draw(st.integers(0, most))):
        at = draw(st.integers(0, len(edited)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(pieces)
        if kind == "insert" or at == len(edited):
            edited.insert(at, piece)
        elif kind == "delete":
            del edited[at]
        else:
            edited[at] = piece
    return "".join(base), "".join(edited)


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[str, str]:
    return edit_pieces(draw, draw(st.lists(unit_pieces, min_size=200, max_size=400)),
                       unit_pieces, 12)


def cuts(tokens: list[str]) -> set[int]:
    out, at = {0}, 0
    for token in tokens:
        at += len(token)
        out.add(at)
    return out


@settings(deadline=None, max_examples=150)
@given(edited_pairs())
def test_long_blocks_rebuild_and_cut_between_tokens_with_exact_word_counts(
    pair: tuple[str, str],
) -> None:
    from unittest import mock

    from agenda import diff as engine
    from agenda.diff import _cleanup, _count_words, is_word

    a, b = pair
    with mock.patch.object(engine, "_UNITS_FROM", 0):  # every block takes the unit path
        ops = diff_words(a, b)
    assert rebuild(ops) == (a, b)
    assert well_formed(ops)
    assert _cleanup(ops) == ops  # why a block that is the whole text skips the last clean-up
    for text, side in ((a, "insert"), (b, "delete")):
        tokens = tokenize(text)
        at, seen, words = 0, cuts(tokens), 0
        for op in ops:
            if op.op == side:
                continue
            at += len(op.text)
            assert at in seen  # no op ends inside a token of its text
            words += sum(map(is_word, tokenize(op.text))) if op.words is None else op.words
        assert words == sum(map(is_word, tokens)) == _count_words(text)


def test_a_long_paragraph_is_tokenised_only_where_it_changed() -> None:
    from unittest import mock

    from agenda import diff as engine

    words = [f"word{i % 97}" for i in range(4000)]
    a = " ".join(words) + "."
    words[1000], words[3000] = "changed", "other"
    b = " ".join(words) + "."
    with mock.patch.object(engine, "tokenize", wraps=engine.tokenize) as spy:
        ops = diff_words(a, b)
    assert all(len(call.args[0]) < 100 for call in spy.call_args_list)
    assert [(op.op, op.text) for op in ops if op.op != "equal"] == [
        ("delete", "word30"), ("insert", "changed"), ("delete", "word90"), ("insert", "other")]
    assert diff_stats(ops) == DiffStats(0, 0, 2, 2 * 3998 / 8000)


def test_short_paragraphs_of_a_long_text_are_not_tokenised_again() -> None:
    from unittest import mock

    from agenda import diff as engine

    paragraphs = [[f"word{(7 * p + i) % 89}" for i in range(60)] for p in range(100)]
    a = "\n\n".join(" ".join(words) + "." for words in paragraphs)
    for p, words in enumerate(paragraphs):
        words[2], words[57] = f"new{p}", f"end{p}"  # far apart: the change spans the paragraph
    b = "\n\n".join(" ".join(words) + "." for words in paragraphs)
    with mock.patch.object(engine, "tokenize", wraps=engine.tokenize) as spy:
        ops = diff_words(a, b)
    # Each paragraph is a short block of a long text: its chunks are looked up, none of the
    # paragraphs (over 400 characters each) goes through the tokenizer.
    assert all(len(call.args[0]) < 100 for call in spy.call_args_list)
    assert rebuild(ops) == (a, b)
    assert [(op.op, op.text) for op in ops if op.op != "equal"] == [
        pair for p in range(100)
        for pair in (("delete", f"word{(7 * p + 2) % 89}"), ("insert", f"new{p}"),
                     ("delete", f"word{(7 * p + 57) % 89}"), ("insert", f"end{p}"))]
    assert diff_stats(ops) == DiffStats(0, 0, 200, 2 * 5800 / 12000)


@settings(deadline=None)
@given(texts)
def test_words_counted_without_the_tokenizer_match_the_tokens(text: str) -> None:
    from agenda.diff import _count_words, is_word

    assert _count_words(text) == sum(map(is_word, tokenize(text)))


ascii_texts = st.lists(
    st.one_of(
        st.characters(max_codepoint=0x7F),
        st.sampled_from(["\r\n", "\r", "\n", " ", "  ", "\t", "Indo-Pacific", "Lavrov's", "a_b"]),
        st.sampled_from(["the", "Sides", "agreed", "2030", ",", ".", "--", "'"]),
    ),
    max_size=40,
).map("".join)


@settings(deadline=None)
@given(ascii_texts)
def test_the_ascii_token_pattern_finds_the_tokens_of_the_full_one(text: str) -> None:
    # The ASCII pattern spares the first frame the full one's classes of marks: on an ASCII
    # text it must cut exactly the same tokens.
    from agenda.diff import _ascii_token, _token

    assert _ascii_token().findall(text) == _token().findall(text)


def test_tokenize_takes_the_full_pattern_for_a_text_beyond_ascii() -> None:
    assert tokenize("हिन्दी and Стороны 👨\u200d👩") == [
        "हिन्दी", " ", "and", " ", "Стороны", " ", "👨\u200d👩"]
    assert tokenize("Indo-Pacific, Lavrov's") == ["Indo-Pacific", ",", " ", "Lavrov's"]
