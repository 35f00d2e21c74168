"""Tests for the compilation-text merge."""

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import diff
from agenda.brackets import bracket_count, parse
from agenda.merge import MergeResult, merge_texts
from tests import diff_reference, merge_reference

BASE = (
    "The Sides agreed to launch the Chennai–Vladivostok maritime corridor by 2030 "
    "and to deepen cooperation in the Pacific region."
)


def test_one_sided_edit_is_taken() -> None:
    ru = BASE.replace("deepen", "broaden")
    assert merge_texts(BASE, {"IN": BASE, "RU": ru}) == MergeResult(ru, 0)


def test_edits_to_different_spans_both_apply() -> None:
    india = BASE.replace("launch", "operationalise")
    russia = BASE.replace("deepen", "broaden")
    result = merge_texts(BASE, {"IN": india, "RU": russia})
    assert result.text == (
        "The Sides agreed to operationalise the Chennai–Vladivostok maritime corridor by 2030 "
        "and to broaden cooperation in the Pacific region."
    )
    assert result.clean


def test_region_names_conflict_as_labelled_options() -> None:
    india = BASE.replace("Pacific", "Indo-Pacific")
    russia = BASE.replace("Pacific", "Asia-Pacific")
    result = merge_texts(BASE, {"IN": india, "RU": russia})
    assert result.text == (
        "The Sides agreed to launch the Chennai–Vladivostok maritime corridor by 2030 "
        "and to deepen cooperation in the [IN: Indo-Pacific][RU: Asia-Pacific] region."
    )
    assert result.conflicts == 1
    assert not result.clean


def test_same_word_conflict_is_never_a_silent_pick() -> None:
    india = BASE.replace("2030", "2035")
    russia = BASE.replace("2030", "2028")
    result = merge_texts(BASE, [("IN", india), ("RU", russia)])
    assert "by [IN: 2035][RU: 2028] and" in result.text
    assert result.conflicts == 1


def test_options_follow_the_order_the_sides_were_given() -> None:
    india = BASE.replace("2030", "2035")
    russia = BASE.replace("2030", "2028")
    result = merge_texts(BASE, [("RU", russia), ("IN", india)])
    assert "by [RU: 2028][IN: 2035] and" in result.text


def test_conflict_inside_a_word_brackets_the_whole_word() -> None:
    result = merge_texts("the Indo-Pacific", {"IN": "the Asia-Pacific", "RU": "the Indo-Atlantic"})
    assert result.text == "the [IN: Asia-Pacific][RU: Indo-Atlantic]"


def test_deletion_against_change_is_an_empty_option_with_the_neighbour_word() -> None:
    base = "launch the corridor by 2030."
    result = merge_texts(base, {"IN": "launch the corridor.", "RU": "launch the corridor by 2028."})
    assert result.text == "launch the [IN: corridor][RU: corridor by 2028]."
    base = "launch the corridor by 2030 together."
    result = merge_texts(
        base,
        {"IN": "launch the corridor together.", "RU": "launch the corridor by 2028 together."},
    )
    assert result.text == "launch the corridor [IN: together][RU: by 2028 together]."


def test_shared_punctuation_stays_outside_the_options() -> None:
    base = "launch the corridor together."
    result = merge_texts(
        base,
        {"IN": "launch the corridor together, soon.", "RU": "launch the corridor together, now."},
    )
    assert result.text == "launch the corridor together, [IN: soon][RU: now]."


def test_identical_edits_merge_cleanly() -> None:
    edited = BASE.replace("2030", "2028").replace("Pacific", "Asia-Pacific")
    assert merge_texts(BASE, {"IN": edited, "RU": edited}) == MergeResult(edited, 0)


def test_conflicts_a_word_apart_become_one() -> None:
    base = "to strengthen cooperation in trade"
    result = merge_texts(
        base, {"IN": "to expand cooperation via trade", "RU": "to deepen cooperation on trade"}
    )
    assert result.text == "to [IN: expand cooperation via][RU: deepen cooperation on] trade"
    assert result.conflicts == 1


def test_three_sides_unchanged_side_keeps_the_base_as_its_option() -> None:
    india = BASE.replace("2030", "2035")
    russia = BASE.replace("2030", "2028")
    result = merge_texts(BASE, [("IN", india), ("RU", russia), ("CN", BASE)])
    assert "by [IN: 2035][RU: 2028][CN: 2030] and" in result.text
    groups = parse(result.text)
    assert [o.label for o in groups[0].options] == ["IN", "RU", "CN"]


def test_three_sides_two_agree_one_unchanged() -> None:
    edited = BASE.replace("2030", "2028")
    assert merge_texts(BASE, [("IN", edited), ("RU", edited), ("CN", BASE)]).text == edited


def test_cyrillic_and_crlf() -> None:
    base = "Стороны договорились\r\nо сотрудничестве.\r\n"
    result = merge_texts(
        base,
        {
            "IN": "Стороны решили\r\nо сотрудничестве.\r\n",
            "RU": "Стороны договорились\r\nо партнёрстве.\r\n",
        },
    )
    assert result == MergeResult("Стороны решили\r\nо партнёрстве.\r\n", 0)


def test_no_sides_returns_base() -> None:
    assert merge_texts("x", {}) == MergeResult("x", 0)


def test_large_texts_merge() -> None:
    words = [f"word{i % 101}" for i in range(8000)]
    base = " ".join(words)
    a, b = list(words), list(words)
    a[100], b[5000], a[7000], b[7000] = "AAA", "BBB", "X1", "X2"
    result = merge_texts(base, {"IN": " ".join(a), "RU": " ".join(b)})
    assert result.conflicts == 1
    assert "AAA" in result.text and "BBB" in result.text and "[IN: X1][RU: X2]" in result.text


words = st.lists(
    st.sampled_from(["the", "Sides", "agreed", "2030", ",", ".", " ", "\r\n", "Стороны", "हिन्दी"]),
    max_size=25,
).map("".join)
any_text = st.one_of(words, st.text(max_size=30))


@settings(deadline=None)
@given(any_text, any_text)
def test_one_side_unchanged_yields_the_other_side(base: str, edited: str) -> None:
    assert merge_texts(base, {"IN": base, "RU": edited}) == MergeResult(edited, 0)
    assert merge_texts(base, {"IN": edited, "RU": base}) == MergeResult(edited, 0)


@settings(deadline=None)
@given(any_text, any_text)
def test_identical_edits_have_no_new_brackets(base: str, edited: str) -> None:
    result = merge_texts(base, {"IN": edited, "RU": edited})
    assert result.clean
    assert bracket_count(result.text) == bracket_count(edited)


@settings(deadline=None)
@given(words, words, words)
def test_every_conflict_has_one_option_per_side_in_order(base: str, a: str, b: str) -> None:
    result = merge_texts(base, {"IN": a, "RU": b})
    groups = parse(result.text)
    assert len(groups) == result.conflicts
    assert all([o.label for o in g.options] == ["IN", "RU"] for g in groups)


# Fast paths against the merge as it was (tests/merge_reference.py): texts built by editing a
# shared base a few tokens at a time, as delegations do, so that most merges reach the
# region passes with short middles, joiners, ragged spacing and close conflicts.
_PIECES = ["the", "Sides", "agreed", "Indo", "-", "Pacific", "2030", ",", ".", " ", "  ",
           "\n", "'", "/", "Стороны", "हिन्दी", "e\u0301"]
_pieces = st.lists(st.sampled_from(_PIECES), max_size=30)


@st.composite
def edited_sides(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    base = draw(_pieces)
    sides = []
    for code in draw(st.sampled_from([["IN", "RU"], ["IN", "RU", "CN"], ["IN"]])):
        tokens = list(base)
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(tokens)))
            cut = draw(st.integers(0, 3))
            tokens[at : at + cut] = draw(st.lists(st.sampled_from(_PIECES), max_size=3))
        sides.append((code, "".join(tokens)))
    return "".join(base), sides


def _same_as_before(base: str, sides: list[tuple[str, str]], agreed: bool) -> None:
    ours = merge_texts(base, sides, agreed_base=agreed)
    before = merge_reference.merge_texts(base, sides, agreed_base=agreed)
    assert (ours.text, ours.conflicts) == (before.text, before.conflicts)


@settings(deadline=None, max_examples=400)
@given(edited_sides(), st.booleans())
def test_merge_equals_the_merge_before_its_fast_paths(
    case: tuple[str, list[tuple[str, str]]], agreed: bool
) -> None:
    base, sides = case
    _same_as_before(base, sides, agreed)


@settings(deadline=None)
@given(any_text, st.lists(any_text, min_size=1, max_size=3), st.booleans())
def test_merge_of_any_texts_equals_the_merge_before_its_fast_paths(
    base: str, texts: list[str], agreed: bool
) -> None:
    sides = [(f"D{k}", text) for k, text in enumerate(texts)]
    _same_as_before(base, sides, agreed)


@settings(deadline=None)
@given(edited_sides(), st.lists(st.booleans(), min_size=1, max_size=4))
def test_sides_on_the_base_or_one_edit_merge_as_before(
    case: tuple[str, list[tuple[str, str]]], kept: list[bool]
) -> None:
    """The shortcut for two distinct texts (the base and one edit) against the general path."""
    base, sides = case
    edit = sides[0][1]
    texts = [(f"D{k}", base if keep else edit) for k, keep in enumerate(kept)]
    _same_as_before(base, texts, True)
    _same_as_before(base, texts, False)


@settings(deadline=None, max_examples=300)
@given(st.lists(st.one_of(any_text, _pieces.map("".join)), min_size=2, max_size=4))
def test_shared_edges_as_before(texts: list[str]) -> None:
    assert diff.shared_edges(texts) == diff_reference.shared_edges(texts)


@settings(deadline=None, max_examples=300)
@given(edited_sides())
def test_shared_edges_of_edited_texts_as_before(case: tuple[str, list[tuple[str, str]]]) -> None:
    texts = [case[0], *(text for _, text in case[1])]
    assert diff.shared_edges(texts) == diff_reference.shared_edges(texts)
