"""Markdown written from user text: inline text that stays inline, bodies that stay inside
their item, quotes that stay quoted. Used by the exports and the importer alike."""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~{}])")
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LIST_NUMBER = re.compile(r"\d{1,9}(?=[.)])")
_NEWLINES = re.compile(r"\r\n|\r|\n")
# Any character one of the three replacements above would touch.
_PLAIN = re.compile(r"[\r\n\\`*_\[\]<>#|~{}&]")


def md_inline(value: Any) -> str:
    """Plain text made inert in any inline context: headings, paragraphs, list items, cells.

    Every character that could open emphasis, a link, code, HTML, a table cell, CriticMarkup
    or a heading's closing sequence is backslash-escaped; a leading list or setext marker is
    too, since the text may start a line.
    """
    text = str(value)
    if _PLAIN.search(text) is not None:  # most titles and names: nothing to replace
        text = _NEWLINES.sub(" ", text)
        text = _INLINE_SPECIAL.sub(r"\\\1", text)
        text = _ENTITY_LIKE.sub(r"\\&", text)
    text = text.strip()
    if text.startswith(("-", "+", "=")):
        return "\\" + text
    number = _LIST_NUMBER.match(text)
    if number:
        return f"{number.group()}\\{text[number.end():]}"
    return text


_COMMONMARK = MarkdownIt("commonmark")
# The outline checks need block structure only; skipping the inline pass halves their cost.
_BLOCKS = MarkdownIt("commonmark").disable("inline")
# Lines that could be, or underline, a heading; and characters that could open a block
# (fence, HTML) able to run past the end of a text. Texts with neither skip the parser.
_HEADING_LIKE = re.compile(r"^[ \t>]*(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)", re.MULTILINE)
_FENCE_CLOSERS = {"<!--": "-->", "<?": "?>", "<![CDATA[": "]]>"}


def _heading_like(text: str) -> bool:
    # Matched line by line: a search tried the pattern's `^` at every character of the text.
    return any(_HEADING_LIKE.match(line) for line in text.split("\n"))


def _opener_like(text: str) -> bool:
    # Substring searches: a regex alternation took a pass per character.
    return "<" in text or "```" in text or "~~~" in text


def _lines(text: str) -> list[str]:
    # Most texts hold no CR: then a split is all (the substitution alone was a fifth of the
    # body filter's time).
    lines = (_NEWLINES.sub("\n", text) if "\r" in text else text).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def shift_headings(lines: list[str], by: int) -> list[str]:
    """Move the text's own top-level headings `by` levels deeper (negative: shallower).

    A body's headings must sit below the item's heading, or they would cut the document's
    outline; the importer shifts them back. A setext heading becomes an ATX one.
    """
    text = "\n".join(lines)
    if by == 0 or not _heading_like(text):
        return lines
    out = list(lines)
    tokens = _BLOCKS.parse(text)
    for token in reversed(tokens):
        if token.type != "heading_open" or token.level != 0 or token.map is None:
            continue
        start, end = token.map
        level = max(1, min(6, int(token.tag[1]) + by))
        if token.markup.startswith("#"):
            stripped = out[start].lstrip()
            indent = out[start][: len(out[start]) - len(stripped)]
            out[start] = indent + "#" * level + stripped.lstrip("#")
        else:
            content = " ".join(line.strip() for line in out[start:end - 1])
            out[start:end] = [f"{'#' * level} {content}"]
    return out


def _contained(lines: list[str]) -> bool:
    """True when what follows the text (after a blank line) still starts a new block."""
    if not _opener_like("\n".join(lines)):
        return True
    probe = "\n".join([*lines, "", "# end"])
    tokens = _BLOCKS.parse(probe)
    last = [t for t in tokens if t.level == 0 and t.nesting >= 0]
    return bool(last) and last[-1].type == "heading_open" and last[-1].map == [len(lines) + 1,
                                                                                 len(lines) + 2]


def _close_open_block(lines: list[str]) -> list[str]:
    """Close a fence or HTML block the text leaves open, so it cannot swallow what follows."""
    tokens = [t for t in _BLOCKS.parse("\n".join(lines)) if t.level == 0 and t.nesting >= 0]
    if not tokens:
        return lines
    last = tokens[-1]
    if last.type == "fence":
        return [*lines, last.markup]
    if last.type == "html_block":
        opener = last.content.lstrip()
        for start, closer in _FENCE_CLOSERS.items():
            if opener.startswith(start):
                return [*lines, closer]
        if opener.startswith("<!"):
            return [*lines, ">"]
        tag = re.match(r"<(script|pre|style|textarea)", opener, re.IGNORECASE)
        if tag:
            return [*lines, f"</{tag.group(1)}>"]
    return lines


def md_body(value: Any, level: int = 3) -> str:
    """An item body (Markdown) placed under a heading of `level`: kept as Markdown, its own
    headings moved below `level`, and any block it leaves open closed."""
    lines = shift_headings(_lines(str(value)), level)
    if not _contained(lines):
        lines = _close_open_block(lines)
        if not _contained(lines):
            # Pathological nesting: show it as code rather than let it eat the document.
            lines = ["    " + line for line in lines]
    return "\n".join(lines)


def md_quote(value: Any) -> str:
    """Markdown text inside a block quote: contained by the quote, its headings harmless."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in _lines(str(value)))
