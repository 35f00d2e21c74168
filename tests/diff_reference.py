"""shared_edges as it was before its fast paths: the oracle they are tested against.

Only shared_edges changed; the searches it calls are agenda.diff's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from agenda.diff import _CUT_WINDOW, _loose_end, _loose_start, _shared_length


def shared_edges(texts: Sequence[str]) -> tuple[int, int]:
    """Lengths of a prefix and a suffix (not overlapping) that all texts share.

    Each is cut between tokens, with a space or lone punctuation on the shared side, so the
    texts' tokens, words and the merge's neighbour words are the same with or without them:
    diffing or merging what is left gives the same answer, and a 1 MB text edited in one
    place costs what the edit costs.
    """
    if len(texts) < 2:
        return 0, 0
    limit = min(map(len, texts))
    first = texts[0]
    common = _shared_length(texts, limit, backwards=False)
    # A cut at c keeps first[:c]; the character at c and the one before it are shared.
    prefix = next((c for c in range(common - 1, max(0, common - _CUT_WINDOW), -1)
                   if _loose_end(first, c - 1)), 0)
    common = _shared_length(texts, limit - prefix, backwards=True)
    end = len(first)
    suffix = next((end - c for c in range(end - common + 1, min(end, end - common + _CUT_WINDOW))
                   if _loose_start(first, c)), 0)
    return prefix, suffix
