"""Compilation text: merge delegations' texts against their common ancestor, bracketing conflicts.

Rules, at word-token granularity (diff3 generalised to any number of sides):

- a span changed by one side only, or changed identically by several sides, is taken;
- a span changed differently by several sides becomes adjacent options, one per side in the
  order the sides were given: ``[IN: Indo-Pacific][RU: Asia-Pacific]``;
- a side that left such a span unchanged still has a position, the base text, so it gets an
  option with the base text;
- a side that deleted the span gets an empty option, ``[RU: ]``: choosing it yields exactly
  that side's text, which a placeholder such as a dash would not;
- a conflict never cuts a word (``Indo-Pacific`` is one option, not ``Indo-`` plus a shared
  ``Pacific``), two conflicts separated by at most one shared word become one, and spacing or
  punctuation shared by all options stays outside the brackets.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate

from agenda.diff import aligned_edges, is_word, matching_blocks, shared_edges, tokenize
from agenda.frozen import cached, frozen

# Punctuation that sits inside a word: "Indo-Pacific", "India's", "Chennai–Vladivostok", "and/or".
_JOINERS = frozenset("-‐‑–'’/")

# Middles at least this long (left whole where a side grew a long run, see
# diff.aligned_edges) take the tokens they share with the base's middle from its tokens
# instead of tokenising them again.
_REUSE_FROM = 8192

# Stands in for the base of a chunk when the base was never agreed (see merge_texts).
_UNAGREED = "\x00"

class _Chunk(list[list[str]]):
    """One unstable span: the base tokens first, then each side's tokens.

    A list of its own type, so that a region is told apart from a shared span (a plain list
    of tokens) by its type, not by looking at its first element.
    """


_Region = list[str] | _Chunk


@frozen
class MergeResult:
    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        return self.conflicts == 0

    @cached
    def brackets(self) -> int:
        """The bracket pairs of the merged text (brackets.bracket_count: every option and
        nested pair), counted on first use and kept with the result (beside the fields, never
        compared or hashed). state.compile_item keeps each merge of a state, so `summit
        merge`, the app's Positions tab and its compile share one count of each compilation.
        The app's workers are threads: two may count the same text at once and keep the same
        number, nothing else is shared."""
        from agenda import brackets as scanner  # loaded only when a compilation is counted

        return scanner.bracket_count(self.text)


def _wordish(token: str) -> bool:
    return token in _JOINERS or is_word(token)


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
        count, blocks_count = len(shared), len(blocks)
        while i < count and j < blocks_count:
            s_start, s_end, s_offsets = shared[i]
            b_start, b_end, b_offset = blocks[j]
            start = s_start if s_start > b_start else b_start
            end = s_end if s_end < b_end else b_end
            if start < end:
                offsets = (*s_offsets, b_offset)
                if narrowed and narrowed[-1][1] == start and narrowed[-1][2] == offsets:
                    start = narrowed.pop()[0]  # abutting, and consecutive in every side
                narrowed.append((start, end, offsets))
            if s_end < b_end:
                i += 1
            else:
                j += 1
        shared = narrowed
    regions: list[_Region] = []
    prev_b, prev_s = 0, [0] * len(sides)
    for start, end, offsets in shared:
        ends = [start + offset for offset in offsets]
        # Nothing unstable between two sync spans when every side is where the base is.
        if start > prev_b or ends != prev_s:
            chunk = _Chunk([base[prev_b:start]])
            chunk.extend(map(_slice, sides, prev_s, ends))
            regions.append(chunk)
        regions.append(base[start:end])
        prev_b, prev_s = end, [end + offset for offset in offsets]
    if prev_b < len(base) or any(p < len(s) for s, p in zip(sides, prev_s, strict=True)):
        chunk = _Chunk([base[prev_b:]])
        chunk.extend(s[p:] for s, p in zip(sides, prev_s, strict=True))
        regions.append(chunk)
    return regions


def _slice(tokens: list[str], start: int, end: int) -> list[str]:
    return tokens[start:end]


def _whole_words(regions: list[_Region]) -> list[_Region]:
    """Grow chunks over shared tokens so that no chunk edge falls inside a word."""
    out: list[_Region] = []
    for region in regions:
        if not isinstance(region, _Chunk):
            sync = list(region)
            last = out[-1] if out else None
            if isinstance(last, _Chunk):
                chunk = last
                while sync and _wordish(sync[0]) and any(o and _wordish(o[-1]) for o in chunk):
                    token = sync.pop(0)
                    for option in chunk:
                        option.append(token)
            if sync:
                out.append(sync)
            continue
        chunk = region
        while out and not isinstance(out[-1], _Chunk):
            sync = out[-1]
            if not (_wordish(sync[-1]) and any(o and _wordish(o[0]) for o in chunk)):
                break
            token = sync.pop()
            chunk = _Chunk([token, *option] for option in chunk)
            if not sync:
                out.pop()
        last = out[-1] if out else None
        if isinstance(last, _Chunk):
            out.pop()
            chunk = _Chunk(a + b for a, b in zip(last, chunk, strict=True))
        out.append(chunk)
    return out


def _is_conflict(chunk: _Chunk) -> bool:
    """Whether two sides changed the chunk's base differently."""
    base, changed = chunk[0], None
    for k in range(1, len(chunk)):  # a plain loop: most chunks have two sides
        side = chunk[k]
        if side != base:
            if changed is None:
                changed = side
            elif side != changed:
                return True
    return False


def _taken(chunk: _Chunk) -> list[str]:
    base = chunk[0]
    return next((side for side in chunk[1:] if side != base), base)


def _ragged(edges: list[str | None]) -> bool:
    """Some options start (or end) with whitespace and others do not."""
    spaced = [e is not None and not e.strip() for e in edges]
    return any(spaced) and not all(spaced)


def _pull_neighbour_words(regions: list[_Region]) -> list[_Region]:
    """Take the shared word next to a conflict into it when its options have ragged spacing.

    "corridor[IN: ][RU:  by 2028]" becomes "[IN: corridor][RU: corridor by 2028]", which reads
    naturally and still gives each side's exact text.
    """
    pulled = False
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
            pulled = True
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
            pulled = True
    if not pulled:
        return regions  # as _whole_words left them: no empty span, no two chunks in a row
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
    # Only the first option's token is tested for a word: the others must equal it.
    first, others = options[0], options[1:]
    room = min(map(len, options))
    lead = 0
    while lead < room and not _wordish(token := first[lead]) and \
            all(o[lead] == token for o in others):
        lead += 1
    room -= lead
    trail = 0
    while trail < room and not _wordish(token := first[-1 - trail]) and \
            all(o[-1 - trail] == token for o in others):
        trail += 1
    inner = "".join([  # a list, not a generator: a third faster for a few options
        f"[{name}: {''.join(o[lead : len(o) - trail])}]"
        for name, o in zip(names, options, strict=True)
    ])
    return "".join(first[:lead]) + inner + "".join(first[len(first) - trail :])


def _tokens_beside(base: str, base_tokens: list[str], ends: list[int], text: str) -> list[str]:
    """tokenize(text), the start and end it shares with base taken from base's tokens.

    ends: where each of base's tokens ends. shared_edges cuts between tokens, so the shared
    start and end are whole tokens of both texts; a cut that is not at one of base's token
    ends (never expected) falls back to tokenising the whole text.
    """
    head, tail = shared_edges([base, text])
    start, stop = bisect_right(ends, head), bisect_right(ends, len(base) - tail)
    if (ends[start - 1] if start else 0) != head or \
            (ends[stop - 1] if stop else 0) != len(base) - tail:
        return tokenize(text)
    return [*base_tokens[:start], *tokenize(text[head : len(text) - tail]), *base_tokens[stop:]]


# A merge's inputs: the base, the (name, text) sides in their order, agreed_base.
MergeKey = tuple[str, tuple[tuple[str, str], ...], bool]

# Merges answered from outside, by their very inputs: a process that merged these texts before
# hands in what merge_texts returned then (the app's first frame, tui/kept_diffs.py, answers
# from what its last start computed, without importing the diff engine). Empty: nothing asked.
GIVEN: dict[MergeKey, MergeResult] = {}
# When a dict: every merge computed is noted here, by its inputs (the same app notes what its
# first frame merged, to keep it for the next start). None: nothing noted.
NOTED: dict[MergeKey, MergeResult] | None = None


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
    if not GIVEN and NOTED is None:
        return _merge(base, pairs, agreed_base)
    key: MergeKey = (base, tuple((name, text) for name, text in pairs), agreed_base)
    result = GIVEN.get(key)
    if result is None:
        result = _merge(base, pairs, agreed_base)
    noted = NOTED
    if noted is not None:
        noted[key] = result
    return result


def _merge(base: str, pairs: list[tuple[str, str]], agreed_base: bool) -> MergeResult:
    if not pairs:
        return MergeResult(base, 0)
    names = [name for name, _ in pairs]
    # Text every side kept at both ends is neither tokenised nor aligned: merging the rest
    # gives the same result, and a long text edited in one place costs what the edit costs.
    # Each distinct text once: a side that kept the base adds nothing to compare.
    distinct = list(dict.fromkeys([base, *(text for _, text in pairs)]))
    if len(distinct) == 1:
        return MergeResult(base, 0)
    if agreed_base and len(distinct) == 2:
        # Every side kept the agreed base or made the one same edit: each chunk is taken
        # from that edit or is the base everywhere, so the merge is the edited text.
        return MergeResult(distinct[1], 0)
    head, tail = aligned_edges(distinct)
    cut = [text[head : len(text) - tail] for text in distinct]
    middles = {base: tokenize(cut[0])}
    ends: list[int] | None = None
    for text, middle in zip(distinct[1:], cut[1:], strict=True):
        if len(middle) < _REUSE_FROM or len(cut[0]) < _REUSE_FROM:
            middles[text] = tokenize(middle)
            continue
        if ends is None:
            ends = list(accumulate(map(len, middles[base])))
        middles[text] = _tokens_beside(cut[0], middles[base], ends, middle)
    regions = _regions(middles[base], [middles[text] for _, text in pairs])
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
    return MergeResult(base[:head] + "".join(parts) + base[len(base) - tail :], conflicts)
