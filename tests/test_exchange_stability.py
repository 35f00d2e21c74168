"""Provisional labels (not yet seen by every device) and split positions, from records alone."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import records
from agenda.exchange import sync
from agenda.exchange.pair import SLUG, build_pair
from agenda.exchange.stability import marks
from agenda.records import Record
from agenda.workspace import Workspace

T = "2021-02-11T09:00:00.000000Z"


class Log:
    """A summit's joint records written by named devices, each seeing what it is told."""

    def __init__(self) -> None:
        self.genesis = records.make(kind=records.GENESIS, summit="", scope="joint",
                                    author="IN", lamport=1, deps=[], created=T,
                                    body={"title": "S", "delegations": [
                                        {"code": "IN", "name": "India"},
                                        {"code": "RU", "name": "Russia"}]})
        self.all: list[Record] = [self.genesis]

    def write(self, device: str, author: str, kind: str, body: dict[str, object],
              seen: list[Record]) -> Record:
        deps = records.heads(seen)
        by_id = {r.id: r for r in seen}
        record = records.make(kind=kind, summit=self.genesis.id, scope="joint", author=author,
                              lamport=1 + max(by_id[d].lamport for d in deps), deps=deps,
                              created=T, body=body, signer=device)
        self.all.append(record)
        return record


def _two_officers() -> tuple[Log, list[Record], Record, Record]:
    """IN's officers A and B and RU's C introduce themselves; A and B then table different
    texts of item X offline, each unaware of the other."""
    log = Log()
    certs = [log.write(d, code, records.KEY_CERT, {}, [log.genesis])
             for d, code in (("a", "IN"), ("b", "IN"), ("c", "RU"))]
    base = [log.genesis, *certs]
    one = log.write("a", "IN", records.REVISION,
                    {"item": "X", "code": "MOD", "text": "Ports."}, base)
    two = log.write("b", "IN", records.REVISION,
                    {"item": "X", "code": "MOD", "text": "Ports, all."}, base)
    return log, base, one, two


def test_concurrent_texts_of_one_delegation_are_a_split_position() -> None:
    log, base, one, two = _two_officers()
    found = marks(log.all)
    assert found.split == {"X": {"IN": (two.id, one.id)}} or \
        found.split == {"X": {"IN": (one.id, two.id)}}
    assert {one.id, two.id} <= found.provisional
    # A consolidating text that has seen both ends the split.
    log.write("a", "IN", records.REVISION, {"item": "X", "code": "MOD", "text": "Ports, all."},
              [*base, one, two])
    assert marks(log.all).split == {}


def test_concurrent_acts_on_the_same_text_are_no_split() -> None:
    log, base, one, _ = _two_officers()
    log.all.pop()  # B did not table
    log.write("b", "IN", records.REVISION, {"item": "X", "code": "MOD", "text": "Ports."}, base)
    assert marks(log.all).split == {}
    assert one.id in marks(log.all).provisional


def test_a_text_is_stable_once_every_device_wrote_after_seeing_it() -> None:
    log, base, one, two = _two_officers()
    every = [*base, one, two]
    log.write("c", "RU", records.ACCEPTANCE, {"item": "X", "revision": one.uuid}, every)
    assert {one.id, two.id} <= marks(log.all).provisional  # A and B have not seen it all
    log.write("a", "IN", records.NOTE, {"item": "X", "text": "ok"}, log.all)
    log.write("b", "IN", records.NOTE, {"item": "X", "text": "ok"}, log.all)
    assert marks(log.all).provisional == frozenset()


def test_an_unbound_history_has_nothing_provisional() -> None:
    log = Log()
    log.write("", "IN", records.REVISION, {"item": "X", "code": "MOD", "text": "A."}, [log.genesis])
    unsigned = [records.make(kind=r.kind, summit=r.summit, scope=r.scope, author=r.author,
                             lamport=r.lamport, deps=r.deps, created=r.created, body=r.body)
                for r in log.all]
    assert marks(unsigned).provisional == frozenset()


@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans(), st.integers(0, 2)),
                min_size=1, max_size=12), st.randoms(use_true_random=False))
@settings(max_examples=80)
def test_marks_do_not_depend_on_the_order_records_arrive(
        acts: list[tuple[str, bool, int]], rnd: object) -> None:
    """Each device acts having seen a random prefix of what exists; shuffled input, same marks."""
    log = Log()
    certs = [log.write(d, "IN" if d != "c" else "RU", records.KEY_CERT, {}, [log.genesis])
             for d in "abc"]
    seen = {d: [log.genesis, cert] for d, cert in zip("abc", certs, strict=True)}
    for n, (device, tabling, text) in enumerate(acts):
        if tabling:
            made = log.write(device, "IN" if device != "c" else "RU", records.REVISION,
                             {"item": "X", "code": "MOD", "text": f"T{text}"}, seen[device])
        else:
            made = log.write(device, "IN" if device != "c" else "RU", records.NOTE,
                             {"item": "X", "text": str(n)}, seen[device])
        seen[device].append(made)
        if n % 2:  # the next device learns everything so far (a sync)
            nxt = "abc"[("abc".index(device) + 1) % 3]
            seen[nxt] = list({r.id: r for r in [*seen[nxt], *log.all]}.values())
    shuffled = list(log.all)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert marks(shuffled) == marks(log.all)
    # Once every device has written after seeing everything, no label can move any more.
    everything = list(log.all)
    for device in "abc":
        log.write(device, "IN" if device != "c" else "RU", records.NOTE,
                  {"item": "X", "text": "seen"}, everything)
    assert marks(log.all).provisional == frozenset()


def test_after_a_round_trip_the_other_sides_text_is_stable(tmp_path: Path) -> None:
    paths = build_pair(tmp_path / "pair")
    india, russia = Workspace(paths["IN"]), Workspace(paths["RU"])

    def provisional(ws: Workspace) -> frozenset[str]:
        return marks([records.decode(d) for d in ws.stored(SLUG)[0]]).provisional

    text = russia.table(SLUG, "2.1", delegation="RU", text="The corridor opens.")
    sync.sync(russia)
    sync.sync(india)
    assert text.id in provisional(india) and text.id in provisional(russia)
    india.accept(SLUG, "2.1", delegation="IN")  # India's device has now seen it
    sync.sync(india)
    sync.sync(russia)
    assert text.id not in provisional(india) | provisional(russia)
