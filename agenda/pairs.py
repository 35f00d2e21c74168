"""Bracket pairs counted in a plain text, by string searches: what most texts need, without
loading the bracket scanner (brackets.py compiles its regexes on import)."""

from __future__ import annotations


def plain_count(text: str) -> int:
    """The bracket pairs in a text whose every pair is disputed text, counted in C; -1 when
    the text is not that plain, and only the scanner (brackets.bracket_count) can count it.

    Plain: no ')' (no inline link closes), no "]:" (no definition line, so no reference), no
    backtick or backslash, and brackets that only ever open then close: no "]" before the
    first "[", then exactly one after each "[" (string searches in C, a third of the time of
    a regex over every character). A listing of 20,000 items counts each latest text.
    """
    if ")" in text or "]:" in text or "`" in text or "\\" in text:
        return -1
    parts = text.split("[")
    if "]" in parts[0]:
        return -1
    for part in parts[1:]:
        if part.count("]") != 1:
            return -1
    return len(parts) - 1


def plain_brackets(text: str) -> int:
    """`plain_count`, with 0 for a text without "[" (most texts) found without splitting it:
    what `Revision.brackets` counts before it asks the scanner, and what the checker of a
    whole read counts apart (records.checked_apart)."""
    return plain_count(text) if "[" in text else 0
