"""The importer reads a document a chunk at a time (memory bounded): its tokens, and the
outline made from them, are exactly those of the whole document read at once, wherever the
chunks are cut (fences, HTML blocks, setext headings, lists, definitions used before they
are defined, empty sections)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import import_shapes as shapes
from agenda import importer

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "agendas"

# Lines chosen to make cuts awkward: headings inside fences, HTML blocks and quotes, setext
# underlines, lazy continuations, definitions and their uses, tables, bold and timed lines.
FRAGMENTS = [
    "# Summit agenda 2026-03-01", "## Section", "## Trade", "### Item", "#", "# ",
    "####### not a heading", "## Heading with [a link][ref]", "#### Deep",
    "- Entry: text", "- [Linked][ref] entry", "1. One", "2. Two", "  - nested", "* star",
    "   # indented heading", "    code", "```", "```python", "~~~", "# comment in a fence",
    "<div>", "</div>", "<!--", "-->", "<script>", "</script>", "<table><tr><td>Topic</td>",
    "Para text", "===", "---", "", "", "", "[ref]: https://example.org", "[^1]: a footnote",
    "> quote", "> # quoted heading", "| Topic | Owner |", "|---|---|", "| Trade | IN |",
    "**Bold line**", "10:00 Opening", "10:30 Trade", "Venue: Geneva", "- Dates: 1 May",
    "*Status:* open", "- [ ] task", "Text with [brackets]",
]

DOCUMENTS = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("\n".join)
FRONT = st.sampled_from(["", "---\ntitle: Fronted\nvenue: Oslo\n---\n"])


def fields(token: Any) -> tuple[Any, ...]:
    return (token.type, token.tag, token.nesting, token.map, token.level, token.content,
            token.markup, token.info, token.block, token.hidden, dict(token.attrs or {}))


def whole(text: str) -> tuple[list[Any], dict[str, Any]]:
    """The tokens and definitions of the whole document in one parse (the reference)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    _, fm_end = shapes.front_matter(lines)
    joined = "\n".join([""] * fm_end + lines[fm_end:])
    env: dict[str, Any] = {}
    fast = shapes.fast_blocks(joined)
    tokens = fast if fast is not None else importer._BLOCKS.parse(joined, env)
    return [fields(t) for t in tokens], env.get("references", {})


def chunked(text: str, lines: int) -> importer._Outline:
    with mock.patch.object(importer, "_CHUNK_LINES", lines):
        return importer._Outline(text)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, FRONT, st.sampled_from([1, 2, 5]))
def test_the_tokens_read_in_chunks_are_the_whole_documents(body: str, front: str,
                                                           lines: int) -> None:
    text = front + body
    outline = chunked(text, lines)
    tokens, references = whole(text)
    assert [fields(outline.tokens[i]) for i in range(len(outline.tokens))] == tokens
    assert outline.references == references
    assert len(outline.tokens.bounds) >= 1


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, FRONT, st.sampled_from([1, 3]), st.integers(1, 2), st.booleans())
def test_an_outline_read_in_chunks_is_the_whole_documents(body: str, front: str, lines: int,
                                                          depth: int, literal: bool) -> None:
    text = front + body
    with mock.patch.object(importer, "_CHUNK_LINES", 1 << 30):
        once = importer.parse_markdown(text, depth=depth, literal_brackets=literal)
    with mock.patch.object(importer, "_CHUNK_LINES", lines):
        cut = importer.parse_markdown(text, depth=depth, literal_brackets=literal)
    assert cut == once


def test_a_large_outline_is_cut_at_its_sections_and_inside_its_lists() -> None:
    sections = [f"## Section {n}\n\n" + "\n".join(f"- Item {n}.{k}: text" for k in range(30))
                for n in range(8)]
    text = "# A summit\n\n" + "\n\n".join(sections) + "\n"
    outline = chunked(text, 20)
    # No chunk is a whole section: each list of 30 entries is cut after 20 lines or so.
    assert len(outline.tokens.bounds) > 8
    assert max(stop - start for start, stop in outline.tokens.bounds) <= 22
    assert "entry" in outline.tokens.cuts
    tokens, _ = whole(text)
    assert [fields(outline.tokens[i]) for i in range(len(outline.tokens))] == tokens
    with mock.patch.object(importer, "_CHUNK_LINES", 1 << 30):
        assert importer.parse_markdown(text) == chunked(text, 20).run()


# Lists made to be cut awkwardly: loose and tight parts, nested entries, entries without a
# paragraph, fences and quotes inside entries, markers that change (a new list), numbers
# that cannot interrupt a paragraph, indented markers, definitions inside entries.
LIST_LINES = [
    "- Entry: text", "- Other entry", "* Star entry", "+ Plus", "1. One", "2) Two", "7. Seven",
    " - indented", "   - three spaces", "  - nested", "    - deeper", "  continued text",
    "lazy continuation", "", "", "-", "- ", "  ```", "  code", "  ```", "> - quoted",
    "- > quote in entry", "- [ref]: https://example.org", "  [ref2]: /two", "[ref]",
    "- # heading in entry", "## Section", "- **Bold**", "Paragraph", "---",
    "- [Linked][ref] entry", "    indented code",
]
LISTS = st.lists(st.sampled_from(LIST_LINES), max_size=80).map("\n".join)


@settings(max_examples=500, deadline=None)
@given(LISTS, st.sampled_from([1, 2, 3, 7]))
def test_lists_cut_in_chunks_read_as_the_whole_document(body: str, lines: int) -> None:
    outline = chunked(body, lines)
    tokens, references = whole(body)
    assert [fields(outline.tokens[i]) for i in range(len(outline.tokens))] == tokens
    assert outline.references == references
    # Read backwards too: each chunk parsed again is mended the same way.
    again = chunked(body, lines)
    backwards = [fields(again.tokens[i]) for i in reversed(range(len(again.tokens)))]
    assert backwards[::-1] == tokens


@settings(max_examples=300, deadline=None)
@given(LISTS, st.sampled_from([1, 3]), st.integers(1, 2))
def test_an_outline_of_lists_cut_in_chunks_is_the_whole_documents(body: str, lines: int,
                                                                  depth: int) -> None:
    text = "# Summit agenda\n\n## Section\n\n" + body
    with mock.patch.object(importer, "_CHUNK_LINES", 1 << 30):
        once = importer.parse_markdown(text, depth=depth)
    with mock.patch.object(importer, "_CHUNK_LINES", lines):
        cut = importer.parse_markdown(text, depth=depth)
    assert cut == once


def test_a_heading_in_a_fence_is_no_cut() -> None:
    text = "\n".join(["# Agenda", "## One", "- a: b", "```", "# not a heading", "```",
                      "## Two", "- c: d", "<!--", "# in a comment", "-->", "## Three", "- e"])
    outline = chunked(text, 1)
    cuts = [start for start, _ in outline.tokens.bounds]
    assert 4 not in cuts and 8 not in cuts and 6 in cuts
    tokens, _ = whole(text)
    assert [fields(outline.tokens[i]) for i in range(len(outline.tokens))] == tokens


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus of agendas is not here")
@pytest.mark.parametrize("path", sorted(CORPUS.rglob("*.md")) if CORPUS.is_dir() else [],
                         ids=lambda p: str(p.relative_to(CORPUS)))
def test_the_corpus_reads_the_same_in_chunks(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    with mock.patch.object(importer, "_CHUNK_LINES", 1 << 30):
        once = importer.parse_markdown(text)
    with mock.patch.object(importer, "_CHUNK_LINES", 1):
        cut = importer.parse_markdown(text)
    assert cut == once
