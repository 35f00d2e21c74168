"""shared_edges as it was before its fast paths: the oracle they are tested against."""

from __future__ import annotations

from collections.abc import Sequence

_TRIM_FROM = 1 << 16

_LONE_PUNCTUATION = frozenset("!\"#$%&()*+,.:;<=>?@[\\]^`{|}~")
# How far back from the first difference a cut between tokens is looked for.
_CUT_WINDOW = 256


def _loose_end(text: str, i: int) -> bool:
    """Whether no word continues past text[i] and no token joins it to text[i + 1]."""
    c, d = text[i], text[i + 1]
    if c.isspace():
        return not d.isspace()
    return c in _LONE_PUNCTUATION and d.isascii()


def _loose_start(text: str, i: int) -> bool:
    """Whether text[i] starts a token that no word continues into from text[i - 1]."""
    c, d = text[i - 1], text[i]
    if d.isspace():
        return not c.isspace()
    return d in _LONE_PUNCTUATION and c.isascii()


def _shared_length(texts: Sequence[str], limit: int, backwards: bool) -> int:
    first = texts[0]
    if limit <= _TRIM_FROM:
        # Texts of a diff or a merge: bisect on the length against each text in turn, each
        # test one comparison in C (copying up to `limit` characters, which is why long
        # texts gallop below instead).
        for other in texts[1:]:
            lo, hi = 0, limit
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if (other.endswith(first[len(first) - mid :]) if backwards
                        else other.startswith(first[:mid])):
                    lo = mid
                else:
                    hi = mid - 1
            limit = lo
        return limit
    lo, step = 0, 64
    while lo < limit:
        hi = min(limit, lo + step)
        if backwards:
            same = all(t.endswith(first[len(first) - hi : len(first) - lo], 0, len(t) - lo)
                       for t in texts[1:])
        else:
            same = all(t.startswith(first[lo:hi], lo) for t in texts[1:])
        if not same:
            if hi - lo == 1:
                return lo
            step = 1 if step <= 2 else step // 4
            continue
        lo, step = hi, step * 2
    return lo


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
