"""Shortcuts of a full read and of a write held to the long way: one item folded alone, and
the bracket count of a text of plain pairs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import TickingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_snapshot import OPS, SLUG, apply, new_workspace

from agenda import state as state_module
from agenda.brackets import _scan, bracket_count
from agenda.model import NotFound
from agenda.state import ItemFold, fold_all, fold_item, narrowed_alone
from agenda.workspace import SummitFile, Workspace


def folded(fold: ItemFold) -> dict[str, Any]:
    """Everything an item's fold holds, its status worked out, without its caches."""
    seen = {k: getattr(fold, k) for k in ItemFold.__slots__ if not k.startswith("_")}
    seen["history"] = [vars(r) for r in fold.history]
    seen["tabled"] = [r.id for r in fold.tabled]
    seen["by_uuid"] = sorted(fold.by_uuid)
    seen["status"] = fold.status
    return seen


@contextmanager
def written(factory: pytest.TempPathFactory,
            ops: list[tuple[str, str, int, str]]) -> Iterator[Workspace]:
    """A new workspace with `ops` applied, closed after the block."""
    db = factory.mktemp("written") / "ws.json"
    new_workspace(db)
    ws = Workspace(db, clock=TickingClock())
    try:
        for op in ops:
            apply(ws, *op)
        yield ws
    finally:
        ws.close()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS)
def test_one_item_folded_alone_is_what_the_whole_fold_holds(
        tmp_path_factory: pytest.TempPathFactory, first: list[tuple[str, str, int, str]],
        then: list[tuple[str, str, int, str]]) -> None:
    with written(tmp_path_factory, [*first, *then]) as ws:
        summit = ws._file(SLUG)
        labels = summit.journal.puts.get("labels", {})
        uuids = {r.uuid for r in summit.every.ordered} | {"no-such-item"}
        for viewer in (None, "IN", "RU"):
            whole = fold_all(summit.every, viewer, SLUG, labels)
            for uuid in uuids:
                alone = fold_item(summit.every, viewer, SLUG, labels, uuid)
                if uuid in whole.items:
                    assert alone is not None
                    assert folded(alone) == folded(whole.items[uuid])
                else:
                    assert alone is None


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.randoms(use_true_random=False))
def test_the_records_touching_an_item_are_those_fold_item_scanned_for(
        tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, int, str]],
        rnd: Any) -> None:
    """`RecordSet.touching` (the index `fold_item` reads) against the scan it replaces: the
    roster's records and those that add or name the item, in the order, asked at every
    step of a set built in any causal order (its index extended by records added last,
    dropped by one that sorts before them)."""
    with written(tmp_path_factory, ops) as ws:
        records_ = list(ws._file(SLUG).every.ordered)
    uuids = sorted({r.uuid for r in records_} | {"no-such-item"})

    def scanned(every: state_module.RecordSet, uuid: str) -> list[Any]:
        return [r for r in every.ordered if r.kind in ("summit.genesis", "summit.update")
                or (r.uuid == uuid if r.kind == "item.add" else r.body.get("item") == uuid)]

    every = state_module.RecordSet()
    left = records_[:]
    while left:  # any causal order: a record once its deps are in
        ready = [r for r in left if all(d in every for d in r.deps)]
        record = rnd.choice(ready)
        left.remove(record)
        if rnd.random() < 0.5:
            every.add_all([record])
        else:
            every.add(record)
        uuid = rnd.choice(uuids)
        assert every.touching(uuid) == scanned(every, uuid)
    assert [every.touching(u) for u in uuids] == [scanned(every, u) for u in uuids]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS, st.sampled_from([None, "IN", "RU"]), st.randoms(use_true_random=False))
def test_views_made_when_asked_are_the_views_at_the_snapshot(
        tmp_path_factory: pytest.TempPathFactory, first: list[tuple[str, str, int, str]],
        then: list[tuple[str, str, int, str]], viewer: str | None, rnd: Any) -> None:
    """A whole numbering's views are made when first asked for (`LazyViews`): some asked
    before more records are folded, the rest after, each is the view the snapshot showed
    (a fold of the same records made apart, every view made at once); the listing read
    from the folds is the one read from the views."""
    from agenda import snapshot

    with written(tmp_path_factory, first) as ws:
        summit = ws._file(SLUG)
        labels = summit.journal.puts.get("labels", {})
        summit.folds.clear()  # as a full read finds it: folded and numbered whole
        state = summit.fold(viewer).snapshot()
        apart = fold_all(summit.every, viewer, SLUG, dict(labels)).snapshot()
        expected = {uuid: apart.views[uuid] for uuid in apart.views}
        assert isinstance(state.views, state_module.LazyViews)
        assert snapshot.listing(state) == {
            "items": [snapshot._listed(i, expected.get(i.uuid)) for i in apart.items],
            "empty": [s.title for s in apart.summit.sections if not s.items]}
        early = [uuid for uuid in expected if rnd.random() < 0.5]
        assert [state.views[uuid] for uuid in early] == [expected[uuid] for uuid in early]
        for op in then:
            apply(ws, *op)
        ws.state(SLUG, viewer)  # the same fold, moved on and numbered again
        assert dict(state.views) == expected
        assert snapshot.listing(state)["items"] == [
            snapshot._listed(i, expected.get(i.uuid)) for i in apart.items]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.sampled_from([None, "IN", "RU"]))
def test_the_state_narrowed_to_an_item_is_what_the_whole_state_holds(
        tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, int, str]],
        viewer: str | None) -> None:
    with written(tmp_path_factory, ops) as ws:
        whole = ws.state(SLUG, viewer)
        refs = [ref for i in whole.items for ref in (i.number, i.uuid, f" {i.number}\n")]
        for ref in [*refs, "9.9", "", "1.1.1"]:
            try:
                expected: Any = whole.item(ref)
            except NotFound as exc:
                expected = str(exc)
            try:
                narrowed = ws.item_state(SLUG, viewer, ref)
            except NotFound as exc:
                assert str(exc) == expected
                continue
            item = narrowed.item(ref)
            assert narrowed.items == (item,) and item == expected
            assert narrowed.views == {item.uuid: whole.views[item.uuid]}
            assert narrowed.summit == whole.summit and narrowed.viewer == whole.viewer
            assert narrowed.events == whole.events


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS)
def test_an_item_narrowed_alone_is_what_the_whole_fold_narrows_to(
        tmp_path_factory: pytest.TempPathFactory, first: list[tuple[str, str, int, str]],
        then: list[tuple[str, str, int, str]]) -> None:
    """`narrowed_alone` (the structure, and the item folded alone) against `Fold.narrowed`
    of the whole fold: the same item, view, summit, viewer and events, the same refusals."""
    with written(tmp_path_factory, [*first, *then]) as ws:
        summit = ws._file(SLUG)
        labels = summit.journal.puts.get("labels", {})
        events, count = summit.events, summit.event_count()
        for viewer in (None, "IN", "RU"):
            whole = fold_all(summit.every, viewer, SLUG, labels)
            items = whole.snapshot().items
            refs = [ref for i in items for ref in (i.number, i.uuid, f" {i.number}\n")]
            for ref in [*refs, "9.9", "", "1.1.1", "0.1"]:
                try:
                    expected: Any = whole.narrowed(ref, events, count)
                except NotFound as exc:
                    expected = str(exc)
                try:
                    alone = narrowed_alone(summit.every, viewer, SLUG, labels, ref, events,
                                           count)
                except NotFound as exc:
                    assert str(exc) == expected
                    continue
                assert not isinstance(expected, str), (ref, expected)
                assert alone.items == expected.items and alone.views == expected.views
                assert alone.summit == expected.summit and alone.viewer == expected.viewer
                assert alone.events == expected.events


def test_a_write_as_a_delegation_never_folds_the_joint_view(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`table` and `accept` as a delegation log the joint status from the item alone, in the
    same words as from the whole joint fold."""
    logged = []
    for alone in (True, False):
        db = tmp_path / f"ws-{alone}.json"
        new_workspace(db)
        calls: list[str | None] = []

        def spy(every: Any, viewer: str | None, *args: Any,
                calls: list[str | None] = calls, **kwargs: Any) -> Any:
            calls.append(viewer)
            return state_module.fold_all(every, viewer, *args, **kwargs)

        monkeypatch.setattr("agenda.workspace.fold_all", spy)
        if not alone:
            monkeypatch.setattr(SummitFile, "item_fold",
                                lambda self, viewer, uuid: self.fold(viewer).items[uuid])
        ws = Workspace(db, clock=TickingClock())
        ws.table(SLUG, "1.1", delegation="RU", text="The Sides agree.")
        ws.close()
        ws = Workspace(db, clock=TickingClock())
        ws.accept(SLUG, "1.1", delegation="IN")
        ws.close()
        monkeypatch.undo()
        assert calls == (["RU", "IN"] if alone else ["RU", None, "IN", None])
        ws = Workspace(db)
        logged.append([(e.action, e.detail) for e in ws._file(SLUG).events()])
        ws.close()
    assert logged[0] == logged[1]
    assert logged[0][-3:] == [
        ("item.status", "item 1.1: bracketed → negotiating"),
        ("revision.accept", "IN accepted v2 of item 1.1"),
        ("item.status", "item 1.1: negotiating → agreed-ad-ref (every delegation accepted v2)")]


PROSE = st.text("ab :\n", max_size=6)
PAIRS = st.lists(st.tuples(PROSE, st.text("ab :\n", max_size=5)), max_size=5).map(
    lambda parts: "".join(f"{before}[{inside}]" for before, inside in parts))


@settings(max_examples=600, deadline=None)
@given(st.one_of(PAIRS, st.text("ab[]()`\\: \n", max_size=30),
                 st.tuples(PAIRS, st.text("[]()`\\:\n", max_size=3), PAIRS).map("".join)))
def test_a_text_of_plain_pairs_is_counted_as_the_scan_counts(text: str) -> None:
    assert bracket_count(text) == len(_scan(text).pairs)


def test_a_decoded_record_spells_its_uuid_as_the_property_does(tmp_path: Path) -> None:
    from agenda import records

    db = tmp_path / "ws.json"
    new_workspace(db)
    ws = Workspace(db)
    try:
        stored, _ = ws.stored(SLUG)
    finally:
        ws.close()
    for doc in stored:
        for strict in (True, False):
            record = records.decode(doc, strict=strict)
            assert vars(record)["uuid"] == records.uuid_from_id(record.id)
        trusted = records.decode({**doc, "id": doc["id"].upper()}, verify=False)
        assert "uuid" not in vars(trusted)  # an id taken on trust is checked when spelt


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.lists(st.one_of(st.sampled_from(["v1", "v2", "d1", "d2", "v300", "", "x"]),
                               st.none(), st.integers(0, 3)), min_size=1, max_size=8),
       st.sampled_from([256, 1]), st.sampled_from([None, "IN"]))
def test_a_remembered_label_is_told_as_the_label_it_was(
        tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, int, str]],
        shown: list[Any], spelled: int, viewer: str | None) -> None:
    # `Fold._revision` spells a text's label from a table (a format past its end): `was` is
    # what the label remembered says, when it differs from the label the text now has.
    with written(tmp_path_factory, ops) as ws:
        every = ws._file(SLUG).every
        revisions = [r for r in every.ordered if r.kind == "revision"]
        labels = {r.id: shown[n % len(shown)] for n, r in enumerate(revisions) if n % 3}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(state_module, "_LABELS_SPELLED", spelled)
            fold = fold_all(every, viewer, SLUG, labels)
    for item in fold.items.values():
        for revision in item.history:
            label = f"{'v' if revision.tabled else 'd'}{revision.number}"
            told = labels.get(revision.id, label)
            assert revision.was == (told if told != label else "")
