"""Which labels may still move (provisional `v9*`) and where a delegation's devices disagree
(split positions), computed from the records alone (EXCHANGE.md 3.3).

A record is *causally stable* once every known device has written a record that has it in its
causal past: nothing concurrent with it can arrive any more, so its label can never change.
The known devices are those that introduced themselves (`key.cert`) in the summit; what a
device has seen is the causal past of every record it wrote.

A *split position*: two desk officers of one delegation acted offline at the same time, and
their last standing acts on an item (tabling a text, accepting one) are concurrent and stand
on different texts. The state's computation picks the greater; the app shows both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agenda import records
from agenda.records import Record


@dataclass(frozen=True)
class Marks:
    """What the app marks in History and Positions."""

    provisional: frozenset[str] = frozenset()  # ids of tabled texts whose label may move
    # item uuid -> delegation -> the record ids of the concurrent texts it stands on
    split: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)


def _past(start: Iterable[str], by_id: Mapping[str, Record], floor: int = 0) -> set[str]:
    """The ids reachable through deps from `start` (included), down to lamport `floor`."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        rid = stack.pop()
        if rid in seen:
            continue
        record = by_id.get(rid)
        if record is None or record.lamport < floor:
            continue
        seen.add(rid)
        stack.extend(record.deps)
    return seen


def _extend(covered: set[str], start: Iterable[str], by_id: Mapping[str, Record],
            floor: int) -> None:
    """Add to `covered` the past of `start`, never walking twice through what it holds."""
    stack = [rid for rid in start if rid not in covered]
    while stack:
        rid = stack.pop()
        record = by_id.get(rid)
        if rid in covered or record is None or record.lamport < floor:
            continue
        covered.add(rid)
        stack.extend(d for d in record.deps if d not in covered)


def stable(recs: Sequence[Record]) -> set[str] | None:
    """The ids every known device has seen; None when no device is known (an unbound
    workspace: nothing is exchanged, so nothing is provisional)."""
    by_id = {r.id: r for r in recs}
    devices = {r.signer for r in recs if r.kind == records.KEY_CERT and r.signer}
    if not devices:
        return None
    # What a device has seen: the past of everything it wrote (its joint and internal
    # records run on two clocks, so its last record by order need not be its last write).
    written: dict[str, list[str]] = {}
    for record in recs:
        if record.signer in devices:
            written.setdefault(record.signer, []).append(record.id)
    if set(written) != devices:
        return set()
    common: set[str] | None = None
    for device in sorted(devices):
        seen = _past(written[device], by_id)
        common = seen if common is None else common & seen
    return common or set()


def marks(recs: Sequence[Record]) -> Marks:
    """Provisional texts and split positions of one summit's records (any order)."""
    recs = sorted(recs, key=records.order_key)
    by_id = {r.id: r for r in recs}
    seen = stable(recs)
    provisional = frozenset() if seen is None else frozenset(
        r.id for r in recs if r.kind == records.REVISION and r.joint and r.id not in seen)
    by_uuid = {r.uuid: r for r in recs}
    acts: dict[tuple[str, str], list[tuple[Record, str]]] = {}
    for record in recs:
        if not record.joint or not record.author:
            continue
        item = record.body.get("item")
        if record.kind == records.REVISION:
            target = record
        elif record.kind == records.ACCEPTANCE:
            found = by_uuid.get(str(record.body.get("revision")))
            if found is None:
                continue
            target = found
        else:
            continue
        if isinstance(item, str):
            acts.setdefault((item, record.author), []).append((record, target.id))
    split: dict[str, dict[str, tuple[str, ...]]] = {}
    for (item, code), mine in acts.items():
        if len(mine) < 2:
            continue
        # Maximal acts: those no later act of the same delegation has in its causal past.
        # Walking back from the latest act, `covered` gathers every later act's past.
        floor = min(act.lamport for act, _ in mine)
        covered: set[str] = set()
        maximal = []
        for act, target_id in reversed(mine):
            if act.id not in covered:
                maximal.append(target_id)
                _extend(covered, act.deps, by_id, floor)
        texts = {str(by_id[t].body.get("text", "")) for t in maximal}
        if len(texts) > 1:
            split.setdefault(item, {})[code] = tuple(dict.fromkeys(maximal))
    return Marks(provisional, split)
