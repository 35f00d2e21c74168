"""The outline's parser-free path gives markdown-it's own block tokens, and the same outline,
for every document it takes; everything else goes to markdown-it."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st

from agenda import import_shapes
from agenda.import_shapes import fast_blocks
from agenda.importer import _BLOCKS, parse_markdown

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_import_scale import agenda  # noqa: E402

# Words with the characters that matter to Markdown, inline and block, and spaces that are
# not markdown-it's (a no-break space, an em space).
WORDS = st.sampled_from([
    "Trade", "item", "2026", "3.", "4)", "1.5", "[with brackets]", "[a](b)", "[ref]", "*em*",
    "**bold**", "_x_", "`code`", "<b>", "<!-- c -->", "&amp;", "|", "a | b", "\\", "#", "##",
    "-", "+", "*", "=", ">", "~~~", "```", ":", "é", "Ω", "\u00a0", "\u2003", "\t", "  ",
    "[ ]", "[x]", "http://x.org", "!"])
TEXT = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
PLAIN = st.sampled_from(["Trade", "Item two", "Élan", "Ωmega", "2026 budget", "x"])
SAFE_TEXT = st.builds(lambda head, tail: head + (" " + tail if tail else ""), PLAIN,
                      st.one_of(st.just(""), TEXT))
# Inline markup of every kind inside, a plain word at both ends: the shapes it takes.
PURE_TEXT = st.builds(lambda head, middle, tail: " ".join(filter(None, [head, middle, tail])),
                      PLAIN, st.one_of(st.just(""), TEXT), PLAIN)
MARKERS = st.sampled_from(["-", "*", "+", "1.", "2.", "1)", "3)", "01.", "10.", "999999999."])


def _line(kind: str, text: str, marker: str, level: int, indent: int) -> str:
    pad = " " * indent
    if kind == "blank":
        return pad
    if kind == "heading":
        return pad + "#" * level + " " + text
    if kind == "entry":
        return pad + marker + " " + text
    return pad + text


def lines(texts: st.SearchStrategy[str], indents: st.SearchStrategy[int],
          levels: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[str]:
    return st.builds(_line, st.sampled_from(["blank", "heading", "entry", "entry", "plain"]),
                     texts, MARKERS, st.integers(1, 7) if levels is None else levels, indents)


# Documents the fast path takes whole (long ones, lazy lines, loose and tight lists).
PURE = st.lists(lines(PURE_TEXT, st.just(0), st.integers(1, 6)), max_size=40).map("\n".join)


# Mostly the shapes the fast path takes (so that it is exercised), with a tricky word at the
# end of a text, a nested entry or an odd marker now and then.
NEAR_PLAIN = st.lists(lines(SAFE_TEXT, st.sampled_from([0, 0, 0, 0, 0, 0, 2, 4])),
                      max_size=25).map("\n".join)
OTHER = st.sampled_from(["```", "~~~", "    code", "<div>", "</div>", "<!-- c", "-->", "---",
                         "===", "***", "| a | b |", "|---|---|", "> quote", "[ref]: http://x",
                         "- [ ] task", "1. ", "-", "#", "Title #", "a  ", "b\t"])
ANYTHING = st.lists(st.one_of(lines(TEXT, st.integers(0, 5)), OTHER),
                    max_size=25).map("\n".join)
DOCUMENTS = st.one_of(PURE, NEAR_PLAIN, ANYTHING,
                      st.builds(lambda a, b: a + "\n" + b, NEAR_PLAIN, st.sampled_from(
                          ["", "\n", "\n\n", "  \n"])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
@example("- Trade\n  ")  # spaces after the last newline (found by a CI run)
@example("- a\n  \n  ")
def test_fast_blocks_are_markdown_its_own_tokens(document: str) -> None:
    fast = fast_blocks(document)
    target(float(len(fast or ())))  # towards long documents the fast path takes
    if fast is not None:
        assert fast == _BLOCKS.parse(document)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, st.sampled_from([1, 2]), st.booleans())
@example("- Trade\n  ", 1, False)  # found by a CI run: the list's end, and so its notes' order
def test_the_outline_is_the_same_with_and_without_the_fast_path(document: str, depth: int,
                                                               literal: bool) -> None:
    fast = parse_markdown(document, depth=depth, literal_brackets=literal)
    with mock.patch.object(import_shapes, "fast_blocks", lambda text: None):
        slow = parse_markdown(document, depth=depth, literal_brackets=literal)
    assert fast == slow


def test_the_fast_path_takes_plain_outlines_and_leaves_the_rest() -> None:
    taken = ["# A summit\n\n## Trade\n\n- Tariffs [on steel]: agreed\n- Quotas\n",
             "## S\n\n1. One\n2. Two\nlazily continued\n\n3) Three\n\nA paragraph\n- entry\n",
             agenda(50)]
    for document in taken:
        assert fast_blocks(document) == _BLOCKS.parse(document)
        assert fast_blocks(document) is not None
    left = ["- entry\n  - nested", "```\ncode\n```", "Title\n=====", "| a |\n|---|",
            "> quote", "[ref]: http://x", "<div>\n", "- [ ] task\n", "# Closed #",
            "Trailing space ", "\u00a0 lead", "    code", "-\ttab", "1.5 million"]
    for document in left:
        assert fast_blocks(document) is None, document


def _clean_title_text_reference(raw: str) -> str:
    """`clean_title_text` as it was before it tried each pattern only where it could match."""
    import re

    text = import_shapes.one_line(raw)
    text = import_shapes._NUMBERING.sub("", text, count=1).strip()
    text = import_shapes._TASK.sub("", text, count=1).strip()
    text = re.sub(r"^(?:[-–—:|,;]\s*)+", "", text) or text
    return re.sub(r"(?:\s*[-–—:|,;]|\s*\(\s*\))+$", "", text).strip() or text


@settings(max_examples=500)
@given(st.lists(st.one_of(WORDS, st.sampled_from(["-", "–", "—", ":", ",", ";", "()", "( )",
                                                  "2.1", "3)", "[ ]", "[x]", "²", "٣.",
                                                  "\u2028", "\x1c"])), max_size=6)
       .map(" ".join))
def test_clean_title_text_is_what_it_was(raw: str) -> None:
    assert import_shapes.clean_title_text(raw) == _clean_title_text_reference(raw)
