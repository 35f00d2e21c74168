"""Tests for the disputed-bracket parser."""

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda.brackets import (
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
