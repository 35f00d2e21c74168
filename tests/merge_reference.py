"""The merge as it was before its fast paths: the oracle they are tested against.

Only the functions the fast paths changed are copied; the rest is agenda.merge's own.
matching_blocks is the general one, so that a shortcut in agenda.diff is checked too. The
whole texts are merged, with no shared edges cut first: that is the merge the cut must give
(the oracle used to cut them as the merge did, and so shared its ties, where a cut suffix
moved a side's edit to the other end of a run of equal tokens: tests/test_merge_edges.py).

The rules it follows are agenda/merge.py's (its module docstring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agenda import diff
from agenda.diff import is_word, tokenize
from agenda.merge import _UNAGREED, MergeResult, _Chunk, _ragged, _Region, _whole_words, _wordish


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, int]]:
    """diff.matching_blocks without its shortcut for short token lists."""
    return [blk for blk in diff._blocks(*diff._ids(a, b), a, b) if blk[2]]


def _regions(base: list[str], sides: list[list[str]]) -> list[_Region]:
    """Split into sync spans (tokens every side kept, as a token list) and unstable chunks.

    Works on matching blocks, not tokens: a sync span is where one block of every side
    covers the base, so the cost grows with the number of edits, not the length of the text.
    """
    # Each side's matches as base intervals [start, end) with the side's offset from base.
    shared: list[tuple[int, int, tuple[int, ...]]] = [(0, len(base), ())]
    for side in sides:
        # A side that kept the base as it was (often one of two) matches it in one block.
        blocks = [(0, len(base), 0)] if side == base else \
            [(a, a + n, b - a) for a, b, n in matching_blocks(base, side) if n]
        narrowed: list[tuple[int, int, tuple[int, ...]]] = []
        i = j = 0
        while i < len(shared) and j < len(blocks):
            start, end = max(shared[i][0], blocks[j][0]), min(shared[i][1], blocks[j][1])
            if start < end:
                offsets = (*shared[i][2], blocks[j][2])
                if narrowed and narrowed[-1][1] == start and narrowed[-1][2] == offsets:
                    start = narrowed.pop()[0]  # abutting, and consecutive in every side
                narrowed.append((start, end, offsets))
            if shared[i][1] < blocks[j][1]:
                i += 1
            else:
                j += 1
        shared = narrowed
    regions: list[_Region] = []
    prev_b, prev_s = 0, [0] * len(sides)
    for start, end, offsets in shared:
        ends = [start + offset for offset in offsets]
        chunk = _Chunk([base[prev_b:start]] + [s[p:e] for s, p, e in zip(sides, prev_s, ends,
                                                                         strict=True)])
        if any(chunk):
            regions.append(chunk)
        regions.append(base[start:end])
        prev_b, prev_s = end, [end + offset for offset in offsets]
    chunk = _Chunk([base[prev_b:]] + [s[p:] for s, p in zip(sides, prev_s, strict=True)])
    if any(chunk):
        regions.append(chunk)
    return regions


def _is_conflict(chunk: _Chunk) -> bool:
    changed = [side for side in chunk[1:] if side != chunk[0]]
    return any(side != changed[0] for side in changed)


def _taken(chunk: _Chunk) -> list[str]:
    changed = [side for side in chunk[1:] if side != chunk[0]]
    return changed[0] if changed else chunk[0]


def _pull_neighbour_words(regions: list[_Region]) -> list[_Region]:
    """Take the shared word next to a conflict into it when its options have ragged spacing.

    "corridor[IN: ][RU:  by 2028]" becomes "[IN: corridor][RU: corridor by 2028]", which reads
    naturally and still gives each side's exact text.
    """
    for r, region in enumerate(regions):
        if not (isinstance(region, _Chunk) and _is_conflict(region)):
            continue
        sides = region[1:]
        before = regions[r - 1] if r > 0 else None
        if isinstance(before, list) and not isinstance(before, _Chunk) and \
                _ragged([o[0] if o else None for o in sides]):
            sync = before
            k = len(sync)
            while k > 0 and _wordish(sync[k - 1]):
                k -= 1
            for option in region:
                option[:0] = sync[k:]
            del sync[k:]
        after = regions[r + 1] if r + 1 < len(regions) else None
        if isinstance(after, list) and not isinstance(after, _Chunk) and \
                _ragged([o[-1] if o else None for o in sides]):
            sync = after
            k = 0
            while k < len(sync) and _wordish(sync[k]):
                k += 1
            for option in region:
                option.extend(sync[:k])
            del sync[:k]
    out: list[_Region] = []
    for region in regions:
        if not region:
            continue
        last = out[-1] if out else None
        if isinstance(last, _Chunk) and isinstance(region, _Chunk):
            out.pop()
            region = _Chunk(a + b for a, b in zip(last, region, strict=True))
        out.append(region)
    return out


def _join_close_conflicts(regions: list[_Region]) -> list[_Region]:
    """Make one conflict of two that only one shared word (or less) separates."""
    out: list[_Region] = []
    for region in regions:
        sync = out[-1] if out else None
        earlier = out[-2] if len(out) >= 2 else None
        if (
            isinstance(region, _Chunk)
            and _is_conflict(region)
            and isinstance(earlier, _Chunk)
            and _is_conflict(earlier)
            and sync is not None
            and not isinstance(sync, _Chunk)
            and sum(map(is_word, sync)) <= 1
        ):
            out.pop()
            out.pop()
            region = _Chunk(a + sync + b for a, b in zip(earlier, region, strict=True))
        out.append(region)
    return out


def _render_conflict(names: list[str], options: list[list[str]]) -> str:
    # Shared spacing and punctuation at the edges stay outside the brackets; words stay in.
    lead = 0
    while all(len(o) > lead and not _wordish(o[lead]) for o in options) and (
        len({o[lead] for o in options}) == 1
    ):
        lead += 1
    trail = 0
    while all(len(o) - lead > trail and not _wordish(o[-1 - trail]) for o in options) and (
        len({o[-1 - trail] for o in options}) == 1
    ):
        trail += 1
    inner = "".join(
        f"[{name}: {''.join(o[lead : len(o) - trail])}]"
        for name, o in zip(names, options, strict=True)
    )
    first = options[0]
    return "".join(first[:lead]) + inner + "".join(first[len(first) - trail :])


def merge_texts(
    base: str,
    sides: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    agreed_base: bool = True,
) -> MergeResult:
    """Merge each delegation's text (code -> text) against base; conflicts become options.

    With agreed_base=False the base only aligns the texts: not every side has accepted it, so
    a span one side changed is that side's proposal, not a settled edit, and is bracketed
    against the others' text unless every side ends with the same words.
    """
    pairs = list(sides.items()) if isinstance(sides, Mapping) else list(sides)
    if not pairs:
        return MergeResult(base, 0)
    names = [name for name, _ in pairs]
    regions = _regions(tokenize(base), [tokenize(text) for _, text in pairs])
    if not agreed_base:
        # A base no side can equal: every chunk where the sides differ becomes a conflict.
        regions = [_Chunk([[_UNAGREED], *r[1:]]) if isinstance(r, _Chunk) else r
                   for r in regions]
    parts: list[str] = []
    conflicts = 0
    for region in _join_close_conflicts(_pull_neighbour_words(_whole_words(regions))):
        if not isinstance(region, _Chunk):
            parts.append("".join(region))
        elif _is_conflict(region):
            conflicts += 1
            parts.append(_render_conflict(names, region[1:]))
        else:
            parts.append("".join(_taken(region)))
    return MergeResult("".join(parts), conflicts)
