"""The word diff's ASCII paths (no classes of marks compiled) agree with its full patterns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import diff

ASCII = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=80)
# Words, hyphens, apostrophes, spaces and line ends: texts that diff into several ops.
PROSE = st.lists(st.sampled_from(["We", "agree", "co-operate", "don't", "the", "Sides", "1",
                                  ".", ",", " ", " ", "\n", "\n\n", "_x", "  "]),
                 max_size=30).map("".join)


@settings(deadline=None)
@given(ASCII)
def test_ascii_word_start_finds_what_the_full_pattern_finds(text: str) -> None:
    full = diff._patterns().word_start.search(text)
    fast = diff._ascii_word_start().search(text)
    assert (fast.span() if fast else None) == (full.span() if full else None)


@settings(deadline=None)
@given(ASCII)
def test_ascii_texts_have_no_glue_and_the_same_plain_words(text: str) -> None:
    assert diff._patterns().glue.search(text) is None
    assert diff._plain_word().findall(text) == diff._patterns().plain_word.findall(text)


@settings(deadline=None)
@given(st.one_of(ASCII, PROSE))
def test_count_words_on_ascii_counts_the_tokenizers_words(text: str) -> None:
    assert diff._count_words(text) == sum(map(diff.is_word, diff.tokenize(text)))


def test_word_search_takes_the_full_pattern_beyond_ascii() -> None:
    search = diff._word_search(["plain", "caf\u00e9"])
    assert search.__self__ is diff._patterns().word_start  # type: ignore[attr-defined]
    assert diff._word_search(["plain", ""]).__self__ is diff._ascii_word_start()  # type: ignore[attr-defined]


@settings(deadline=None, max_examples=150)
@given(PROSE, PROSE)
def test_diff_words_is_the_same_without_the_ascii_paths(a: str, b: str) -> None:
    fast = diff.diff_words(a, b)
    patterns = diff._patterns()  # built before _plain_word is replaced (it uses it)
    with pytest.MonkeyPatch.context() as patch:
        # Every text takes the full patterns, as before the ASCII paths.
        patch.setattr(diff, "_ascii_word_start", lambda: patterns.word_start)
        patch.setattr(diff, "_plain_word", lambda: patterns.plain_word)
        patch.setattr(diff, "_count_words", lambda text: (
            len(patterns.plain_word.findall(text)) if patterns.glue.search(text) is None
            else sum(map(diff.is_word, diff.tokenize(text)))))
        full = diff.diff_words(a, b)
    assert fast == full
    assert diff.diff_stats(fast) == diff.diff_stats(full)
