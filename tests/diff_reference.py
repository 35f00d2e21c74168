"""The engine's parts as they were before their fast paths: the oracles they are tested against.

shared_edges before its fast paths; _by_units as it gathered pieces and settled them (each
block's units encoded alone, run words by prefix sums). The searches and steps they call are
agenda.diff's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate, chain

from agenda.diff import (
    _CUT_WINDOW,
    _LONE_TOKENS,
    _MAX_CELLS,
    _PARAGRAPH_BREAK,
    _WORD,
    Op,
    _Block,
    _lone_change,
    _loose_end,
    _loose_start,
    _op,
    _patterns,
    _shared_length,
    _tidy,
    _unalike,
    _unit_runs,
    _Units,
    _word_span,
    _words,
    tokenize,
)


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


def by_units(xa: str, xb: str, units: _Units) -> list[Op] | None:
    """Word diff of a changed block, aligning units in C and tokenising only the changed ones.

    None when the block is for the token path: too big to align exactly, or read as replaced
    (which the token path decides, keeping shared spacing at the edges).
    """
    # Counted before cutting: mostly spaces (empty chunks) or too many chunks to align
    # exactly are for the token path, which reads such texts in fewer, longer tokens.
    spaces_a, spaces_b = xa.count(" "), xb.count(" ")
    if ((spaces_a + 1) * (spaces_b + 1) > _MAX_CELLS or 2 * spaces_a > len(xa)
            or 2 * spaces_b > len(xb)):
        return None
    ca, cb = xa.split(" "), xb.split(" ")
    ia, ib = units.encode(ca), units.encode(cb)
    # Only a chunk seen for the first time is measured (encode notes the long ones).
    if units.long and not (units.long.isdisjoint(ia) and units.long.isdisjoint(ib)):
        return None
    clean, tokens, word = units.clean, units.tokens, _WORD
    # (The engine keeps no word flags a unit since DIFF5: each unit's, read from its tokens.)
    flags = [list(map(word.__getitem__, found)) for found in tokens]
    na, nb = len(ia), len(ib)
    tidy = _tidy(units, ia, ib)

    # Units i:j of a text as text (each chunk with the space after it, but the last), joined
    # in C; the words before each unit summed in C: a run's words are one subtraction.
    def text_a(i: int, j: int) -> str:
        return " ".join(ca[i:j]) + " " if j < na else " ".join(ca[i:j])

    def text_b(i: int, j: int) -> str:
        return " ".join(cb[i:j]) + " " if j < nb else " ".join(cb[i:j])

    uw = units.words
    wa = list(accumulate(map(uw.__getitem__, ia), initial=0))
    wb = list(accumulate(map(uw.__getitem__, ib), initial=0))
    # The pieces in order, as (kind, text, words): 0 equal, 1 deleted, 2 inserted.
    pieces: list[tuple[int, str, int]] = []
    put = pieces.append

    def span_tokens(ids: list[int], i: int, j: int,
                    text: Callable[[int, int], str]) -> tuple[list[str], list[bool]]:
        """Units i:j's tokens and word flags: the units' own, when no cut inside the span
        joins two tokens; else the span's text tokenised."""
        if j - i == 1:
            return tokens[ids[i]], flags[ids[i]]
        if tidy or all(map(clean.__getitem__, ids[i + 1 : j])):
            return (list(chain.from_iterable(map(tokens.__getitem__, ids[i:j]))),
                    list(chain.from_iterable(map(flags.__getitem__, ids[i:j]))))
        found = tokenize(text(i, j))
        return found, list(map(word.__getitem__, found))

    # Equal runs (start a, start b, length), each cut back so that its edges next to a change
    # are between tokens: the units given back to the change are equal on both sides.
    runs = _unit_runs(ia, ib, units.ends)
    ai = bi = 0
    for k, (i1, j1, n) in enumerate([*runs, (na, nb, 0)]):
        if n and not tidy:
            # A unit after a change must start a token (the first unit of a text always does).
            while n and (i1 or j1) and (i1 > ai or j1 > bi) and not clean[ia[i1]]:
                i1, j1, n = i1 + 1, j1 + 1, n - 1
            if not n:
                # The whole run went to the change: it joins the change after it, whose
                # first unit need not start a token.
                i1, j1 = ai, bi
            end = i1 + n
            nxt = runs[k + 1] if k + 1 < len(runs) else (na, nb, 0)
            if nxt[0] > end or nxt[1] > j1 + n:
                while n and ((end < na and not clean[ia[end]])
                             or (j1 + n < nb and not clean[ib[j1 + n]])):
                    end, n = end - 1, n - 1
        if i1 > ai or j1 > bi:
            if ai == i1:
                put((2, text_b(bi, j1), wb[j1] - wb[bi]))
            elif bi == j1:
                put((1, text_a(ai, i1), wa[i1] - wa[ai]))
            else:
                ta, fa = span_tokens(ia, ai, i1, text_a)
                tb, fb = span_tokens(ib, bi, j1, text_b)
                # (Since DIFF5 _lone_change reads the word flags of the tokens itself.)
                lone = (_lone_change(ta, tb)
                        if len(ta) <= _LONE_TOKENS and len(tb) <= _LONE_TOKENS else None)
                if lone is not None:
                    head, head_w, gone, gone_w, new, new_w, tail, tail_w = lone
                    if head:
                        put((0, head, head_w))
                    if gone:
                        put((1, gone, gone_w))
                    if new:
                        put((2, new, new_w))
                    if tail:
                        put((0, tail, tail_w))
                else:
                    blk = _Block(ta, tb)
                    pieces.extend((KIND_CODES[op.op], op.text, _words(op))
                                  for op in _word_span(blk, 0, len(ta), 0, len(tb), 0))
        if n:
            put((0, text_a(i1, i1 + n), wa[i1 + n] - wa[i1]))
        ai, bi = i1 + n, j1 + n
    ops = settle(pieces)
    if _unalike(wa[-1], wb[-1], sum(op.words or 0 for op in ops if op.op == "equal")):
        return None
    return ops


KIND_CODES = {"equal": 0, "delete": 1, "insert": 2}


def settle(pieces: list[tuple[int, str, int]]) -> list[Op]:
    """_cleanup(_normalise(ops)) of ops given as (kind, text, words) pieces (0 equal,
    1 deleted, 2 inserted), without building an Op before the end.

    Pieces are gathered into entries (an equality, or a change of deleted and inserted
    text), the clean-up's stack runs over the entries' lengths, and each entry or merged
    span becomes its ops once.
    """
    # Entry e: change[e]; text_a[e], words_a[e] (the equality, or what is deleted) and
    # text_b[e], words_b[e] (what is inserted; unused for an equality).
    change: list[bool] = []
    text_a: list[str] = []
    text_b: list[str] = []
    words_a: list[int] = []
    words_b: list[int] = []
    eq: list[str] = []
    de: list[str] = []
    ins: list[str] = []
    eq_w = de_w = ins_w = 0

    def entry(is_change: bool, a: str, b: str, wa: int, wb: int) -> None:
        change.append(is_change)
        text_a.append(a)
        text_b.append(b)
        words_a.append(wa)
        words_b.append(wb)

    for kind, text, words in pieces:
        if not text:
            continue
        if kind == 0:
            if de or ins:
                entry(True, "".join(de), "".join(ins), de_w, ins_w)
                de, ins, de_w, ins_w = [], [], 0, 0
            eq.append(text)
            eq_w += words
            continue
        if eq:
            entry(False, "".join(eq), "", eq_w, 0)
            eq, eq_w = [], 0
        if kind == 1:
            de.append(text)
            de_w += words
        else:
            ins.append(text)
            ins_w += words
    if eq:
        entry(False, "".join(eq), "", eq_w, 0)
    if de or ins:
        entry(True, "".join(de), "".join(ins), de_w, ins_w)
    # The clean-up's stack, as in _cleanup: (is_change, first entry, end entry, deleted
    # length, inserted length).
    word_search = _patterns().word_start.search
    break_search = _PARAGRAPH_BREAK.search
    has_word: dict[int, bool] = {}
    has_break: dict[int, bool] = {}
    stack: list[tuple[bool, int, int, int, int]] = []
    push = stack.append
    for e, is_change in enumerate(change):
        if not is_change:
            size = len(text_a[e])
            push((False, e, e + 1, size, size))
            continue
        push((True, e, e + 1, len(text_a[e]), len(text_b[e])))
        while len(stack) >= 3 and stack[-3][0] and not stack[-2][0]:
            first, eq_entry, last = stack[-3], stack[-2], stack[-1]
            size, k = eq_entry[3], eq_entry[1]
            # An equality is weighed again each time the change beside it grows: each search
            # runs once per equality.
            if not (size <= max(first[3], first[4]) and size <= max(last[3], last[4])):
                if k not in has_word:
                    has_word[k] = word_search(text_a[k]) is not None
                if has_word[k]:
                    break
            if k not in has_break:
                has_break[k] = break_search(text_a[k]) is not None
            if has_break[k]:
                break
            del stack[-3:]
            push((True, first[1], last[2], first[3] + size + last[3],
                  first[4] + size + last[4]))
    out: list[Op] = []
    append = out.append
    for is_change, start, end, _, _ in stack:
        if not is_change:
            append(_op("equal", text_a[start], words_a[start]))
        elif end - start == 1:
            if text_a[start]:
                append(_op("delete", text_a[start], words_a[start]))
            if text_b[start]:
                append(_op("insert", text_b[start], words_b[start]))
        else:
            # A merged span: the equalities inside it go to both sides.
            span = range(start, end)
            gone = "".join(text_a[start:end])
            new = "".join([text_b[e] if change[e] else text_a[e] for e in span])
            gone_w = sum(words_a[start:end])
            new_w = sum([words_b[e] if change[e] else words_a[e] for e in span])
            if gone:
                append(_op("delete", gone, gone_w))
            if new:
                append(_op("insert", new, new_w))
    return out
