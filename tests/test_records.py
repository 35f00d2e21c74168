"""Records as facts: the codec's test vectors, state as a pure function of the record set,
concurrent texts meeting, and the rules as pure functions."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import tabled_against_final

from agenda import export, records, rules, templates
from agenda.model import (
    AgendaError,
    Code,
    Delegation,
    Revision,
    Status,
    Summit,
    Visibility,
)
from agenda.state import RecordSet, build_state, key_between
from agenda.workspace import Workspace

TWO = [Delegation("IN", "India"), Delegation("RU", "Russia")]


class TickingClock:
    """One minute later at every call, from a fixed moment."""

    def __init__(self) -> None:
        self.moment = datetime(2021, 2, 11, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        from datetime import timedelta

        self.moment += timedelta(minutes=1)
        return self.moment

# Test vectors ---------------------------------------------------------------------------------

GENESIS_BYTES = (
    b'{"author":"","body":{"delegations":[{"code":"IN","name":"India"}],"list":[1,"a"],'
    b'"n":1,"none":null,"ok":true,"title":"India\xe2\x80\x93Russia"},'
    b'"created":"2021-02-11T09:00:00.000000Z","deps":[],'
    b'"kind":"summit.genesis","lamport":1,"scope":"joint","signer":null,"summit":"","v":1}')
GENESIS_ID = "3f2b3b718237af7e9a029fef87974759791fe4b3af6c6d9931a14cafa089a7d2"
DRAFT_ID = "418fd7886d33130d93527400eee319fab3eb326f22c665007c0e241c8f68d75e"


def _vectors() -> tuple[records.Record, records.Record]:
    genesis = records.make(
        kind=records.GENESIS, summit="", scope="joint", author="", lamport=1, deps=[],
        created="2021-02-11T09:00:00.000000Z",
        body={"title": "India–Russia", "n": 1, "ok": True, "none": None, "list": [1, "a"],
              "delegations": [{"code": "IN", "name": "India"}]})
    draft = records.make(
        kind=records.REVISION, summit=genesis.id, scope="team:IN", author="IN", lamport=2,
        deps=[genesis.id], created="2021-02-11T09:01:00.000000Z",
        body={"item": "x", "code": "MOD", "justification": "", "parents": [],
              "text": 'Tab\there "quoted" \\ back\nline \u2028 \x1f end'})
    return genesis, draft


def test_canonical_bytes_and_ids_are_fixed() -> None:
    genesis, draft = _vectors()
    assert records.canonical(genesis.content()) == GENESIS_BYTES
    assert genesis.id == GENESIS_ID
    assert draft.id == DRAFT_ID
    # JCS escapes: short forms for \t \n \" \\, lower-case \u00XX for other controls, and
    # U+2028 left as UTF-8.
    assert (b'"text":"Tab\\there \\"quoted\\" \\\\ back\\nline \xe2\x80\xa8 \\u001f end"'
            in records.canonical(draft.content()))


def test_decode_round_trips_and_refuses_an_altered_record() -> None:
    genesis, draft = _vectors()
    for record in (genesis, draft):
        assert records.decode(records.encode(record)) == record
    doc = records.encode(draft)
    doc["record"]["body"]["text"] = "Altered."
    with pytest.raises(records.RecordError, match="does not match its content"):
        records.decode(doc)


@pytest.mark.parametrize("change, message", [
    ({"body": {"x": 1.5}}, "float is not allowed"),
    ({"scope": "team:RU"}, "another delegation's"),
    ({"kind": "item.add", "scope": "team:IN"}, "not allowed for item.add"),
    ({"lamport": 0}, "positive integer"),
    ({"deps": ["b", "a"]}, "sorted list"),
    ({"kind": "made.up"}, "unknown kind"),
    ({"body": {"n": 2**60}}, "out of range"),
])
def test_malformed_records_are_refused(change: dict, message: str) -> None:
    _, draft = _vectors()
    content = {**draft.content(), **change}
    with pytest.raises(records.RecordError, match=message):
        records.decode({"id": records.record_id(content), "record": content})


def test_the_revision_label_is_not_hashed() -> None:
    _, draft = _vectors()
    assert "number" not in draft.body and "label" not in records.canonical(draft.content()).decode()


# State as a function of the record set ----------------------------------------------------------


def _views(all_records: list[records.Record], codes: list[str]) -> dict:
    """Everything a person sees, for the joint view and each delegation's."""
    seen = {}
    for viewer in (None, *codes):
        state = build_state(all_records, viewer, slug="s")
        seen[viewer] = (
            [(i.number, i.title, i.status, i.owner, i.tags, state.bracket_count(i))
             for i in state.items],
            [[(r.label, r.uuid, r.text, sorted(state.accepted_by(r)))
              for r in state.history(item)] for item in state.items],
            [{c: r.label for c, r in state.positions(item).items()} for item in state.items],
            [[(d.action, d.delegation, d.void) for d in state.decisions(item)]
             for item in state.items],
            [[n.text for n in state.item_notes(item)] for item in state.items],
        )
        if viewer is None:
            agenda = templates.find_template("agenda")
            seen["agenda"] = export.render_state(state, agenda)
    return seen


OPS = st.lists(st.tuples(
    st.sampled_from(["table", "draft", "accept", "note", "add", "move", "retitle", "defer",
                     "resume", "confirm", "noc", "section"]),
    st.sampled_from(["IN", "RU", "CN"]),
    st.integers(0, 5),
    st.sampled_from(["Plain text.", "Text with [an option][another].", "Another text."]),
), min_size=1, max_size=25)


def _play(ws: Workspace, slug: str, ops: list) -> None:
    for op, who, n, text in ops:
        state = ws.state(slug, who)
        item = state.items[n % len(state.items)]
        try:
            if op == "table":
                ws.table(slug, item.uuid, delegation=who, text=f"{text} {n}")
            elif op == "draft":
                ws.table(slug, item.uuid, delegation=who, text=f"Draft {n}", internal=True)
            elif op == "accept":
                ws.accept(slug, item.uuid, delegation=who)
            elif op == "note":
                ws.add_note(slug, item.uuid, delegation=who, text=f"Note {n} by {who}")
            elif op == "add":
                ws.add_item(slug, section=str(n % 2 + 1), title=f"Item {n}", text=text,
                            delegation=who)
            elif op == "move":
                ws.shift_item(slug, item.uuid, 1 if n % 2 else -1, actor=who)
            elif op == "retitle":
                ws.retitle_item(slug, item.uuid, f"Title {n}", actor=who)
            elif op == "defer":
                ws.set_status(slug, item.uuid, Status.DEFERRED, actor=who)
            elif op == "resume":
                ws.set_status(slug, item.uuid, Status.NEGOTIATING, actor=who)
            elif op == "confirm":
                ws.set_status(slug, item.uuid, Status.FINAL, actor=who)
            elif op == "noc":
                ws.table(slug, item.uuid, delegation=who, code=Code.NOC)
            elif op == "section":
                ws.move_section(slug, str(n % 2 + 1), 1 + n % 3, actor=who)
        except AgendaError:
            pass  # a refused act writes nothing; the sequence goes on


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ops=OPS, seed=st.integers(0, 2**32 - 1))
def test_any_insertion_order_gives_the_same_state(tmp_path_factory: pytest.TempPathFactory,
                                                  ops: list, seed: int) -> None:
    folder = tmp_path_factory.mktemp("order")
    ws = Workspace(folder / "ws.json", create=True, clock=TickingClock())
    slug = ws.create_summit("Order", [*TWO, Delegation("CN", "China")], slug="s",
                            sections=["One", "Two", "Three"]).slug
    ws.add_item(slug, section="One", title="First", text="Base text.", delegation="IN")
    _play(ws, slug, ops)
    stored = [records.decode(doc) for doc in ws.stored(slug)[0]]
    expected = _views(stored, ["IN", "RU", "CN"])
    shuffled = list(stored)
    random.Random(seed).shuffle(shuffled)
    assert _views(shuffled, ["IN", "RU", "CN"]) == expected
    # A journal's records go in through RecordSet.add_all: the same set as `add` one by
    # one, and the same answer, in any causal order, cut anywhere, records read twice.
    rng = random.Random(seed)
    causal = sorted(stored, key=lambda r: (r.lamport, rng.random()))
    cut = rng.randrange(len(causal) + 1)
    parts = (causal[:cut], causal[cut:] + causal[:2])
    one, many = RecordSet(), RecordSet()
    assert [many.add_all(part) for part in parts] == [
        all([one.add(r) for r in part]) for part in parts]
    assert vars(many) == vars(one)
    # ... and the workspace's incremental fold agrees with the pure function.
    for viewer in (None, "IN", "RU", "CN"):
        live = ws.state(slug, viewer)
        pure = build_state(shuffled, viewer, slug="s")
        assert [(i.number, i.status, i.title) for i in live.items] == \
            [(i.number, i.status, i.title) for i in pure.items]
        assert [[r.label for r in live.history(i)] for i in live.items] == \
            [[r.label for r in pure.history(i)] for i in pure.items]


# Two workspaces that tabled offline ------------------------------------------------------------


def test_both_tabled_v3_offline_and_the_labels_meet(tmp_path: Path) -> None:
    first = tmp_path / "a" / "ws.json"
    ws_a = Workspace(first, create=True, clock=TickingClock())
    slug = ws_a.create_summit("Offline", TWO, slug="s", sections=["One"]).slug
    ws_a.add_item(slug, section="One", title="Trade", text="Trade v1.", delegation="IN")
    ws_a.table(slug, "1.1", delegation="RU", text="Trade v2.")
    ws_a.close()
    shutil.copytree(first.parent, tmp_path / "b")
    ws_a = Workspace(first, clock=TickingClock())
    ws_b = Workspace(tmp_path / "b" / "ws.json", clock=TickingClock())
    a_v3 = ws_a.table(slug, "1.1", delegation="IN", text="India's v3.")
    b_v3 = ws_b.table(slug, "1.1", delegation="RU", text="Russia's v3.")
    assert a_v3.label == b_v3.label == "v3" and a_v3.id != b_v3.id

    added_a, refused_a = ws_a.import_records(slug, ws_b.stored(slug)[0])
    added_b, refused_b = ws_b.import_records(slug, ws_a.stored(slug)[0])
    assert (added_a, refused_a, added_b, refused_b) == (1, [], 1, [])

    def labels(ws: Workspace) -> list[tuple[str, str, str]]:
        state = ws.state(slug)
        return [(r.label, r.text, r.was) for r in state.history(state.item("1.1"))]

    first_id, later_id = sorted([a_v3.id, b_v3.id])
    later = ws_a if later_id == a_v3.id else ws_b
    earlier = ws_b if later is ws_a else ws_a
    shown_later, shown_earlier = labels(later), labels(earlier)
    # Same labels on both sides; "was v3" only where the later text had been shown as v3.
    assert [(label, text) for label, text, _ in shown_later] == \
        [(label, text) for label, text, _ in shown_earlier]
    assert [label for label, _, _ in shown_later] == ["v1", "v2", "v3", "v4"]
    assert shown_later[3][2] == "v3" and shown_earlier[3][2] == ""
    assert all(was == "" for _, _, was in shown_later[:3])
    # The short id, unlike the label, never moved: the CLI accepts it where it accepts vN.
    state = later.state(slug)
    moved = state.revision(state.item("1.1"), "#" + later_id[:8])
    assert moved.label == "v4" and moved.short == "#" + later_id[:6]
    # Importing again changes nothing.
    assert ws_a.import_records(slug, ws_b.stored(slug)[0]) == (0, [])
    # A later import of other records keeps the mark: the label once shown is remembered.
    earlier.add_item(slug, section="One", title="Energy", text="Energy v1.", delegation="IN")
    assert later.import_records(slug, earlier.stored(slug)[0]) == (2, [])
    path = later.path
    later.close()
    assert labels(Workspace(path)) == shown_later  # read afresh from the journal


def test_a_forged_record_is_refused_and_the_rest_imported(tmp_path: Path) -> None:
    ws_a = Workspace(tmp_path / "a.json", create=True, clock=TickingClock())
    slug = ws_a.create_summit("Forged", TWO, slug="s", sections=["One"]).slug
    ws_a.add_item(slug, section="One", title="Trade", text="Trade v1.", delegation="IN")
    stored = ws_a.stored(slug)[0]
    genesis = records.decode(stored[0])
    good = records.make(kind=records.REVISION, summit=genesis.id, scope="joint", author="RU",
                        lamport=99, deps=[records.decode(stored[-1]).id],
                        created="2021-02-11T10:00:00.000000Z",
                        body={"item": records.decode(stored[1]).uuid, "code": "MOD",
                              "text": "Inflated clock.", "justification": "", "parents": []})
    valid = records.make(kind=records.REVISION, summit=genesis.id, scope="joint", author="RU",
                         lamport=records.decode(stored[-1]).lamport + 1,
                         deps=[records.decode(stored[-1]).id],
                         created="2021-02-11T10:00:00.000000Z",
                         body={"item": records.decode(stored[1]).uuid, "code": "MOD",
                               "text": "Honest clock.", "justification": "", "parents": []})
    tampered = records.encode(valid)
    tampered["record"]["body"]["text"] = "Rewritten in the remote."
    added, refused = ws_a.import_records(slug, [records.encode(good), tampered,
                                                records.encode(valid)])
    assert added == 1
    assert any("clock says 99" in r for r in refused)
    assert any("does not match its content" in r for r in refused)
    state = ws_a.state(slug)
    assert [r.text for r in state.history(state.item("1.1"))] == ["Trade v1.", "Honest clock."]


# The rules, as pure functions -------------------------------------------------------------------


def _summit(chair: bool = False) -> Summit:
    return Summit("u", "s", "Summit", "", "", tuple(TWO), (), datetime(2021, 1, 1, tzinfo=UTC),
                  Delegation("CH", "Chair") if chair else None)


def _rev(uuid: str, who: str, text: str = "Clean text.", code: Code = Code.MOD,
         parents: tuple[str, ...] = ()) -> Revision:
    return Revision(uuid, "item", int(uuid[-1]), who, parents, text, code, "",
                    Visibility.TABLED, datetime(2021, 1, 1, tzinfo=UTC), uuid)


def test_agreement_needs_every_party_on_the_latest_clean_text() -> None:
    summit = _summit(chair=True)
    v2 = _rev("r2", "RU")
    assert rules.agreement_gap(summit, None, {}) == "it has no tabled text"
    assert rules.agreement_gap(summit, v2, {"RU": "r2"}) == "IN has not accepted v2"
    assert rules.agreement_gap(summit, v2, {"RU": "r2", "IN": "r2"}) is None  # not the chair
    bracketed = _rev("r3", "RU", "A [b][c].")
    assert "still has 2 brackets" in rules.agreement_gap(summit, bracketed,
                                                         {"RU": "r3", "IN": "r3"})


def test_a_position_is_the_last_standing_act() -> None:
    v1 = _rev("r1", "IN")
    noc = _rev("r2", "RU", code=Code.NOC, parents=("r1",))
    restated = rules.restated_by(noc, {"r1": v1})
    assert restated == v1
    # A NOC counts for the side whose text it restates, while that text is its position.
    assert rules.standing_on_new_text(noc, restated, {"IN": "r1"}) == ("RU", "IN")
    assert rules.standing_on_new_text(noc, restated, {"IN": "r9"}) == ("RU",)
    compilation = _rev("r3", "CH", code=Code.CMP)
    assert rules.standing_on_new_text(compilation, None, {}) == ()


def test_who_may_decide_what() -> None:
    summit = _summit(chair=True)
    void = rules.decision_void
    assert void(summit, "IN", Status.NEGOTIATING, "deferred", "RU") == ""
    assert void(summit, "IN", Status.DEFERRED, "negotiating", "IN") == ""
    assert "only the item's owner (IN)" in void(summit, "IN", Status.NEGOTIATING, "withdrawn",
                                                 "RU")
    assert void(summit, "IN", Status.NEGOTIATING, "withdrawn", "IN") == ""
    assert "no party" in void(summit, "IN", Status.NEGOTIATING, "deferred", "CH")
    assert "only a deferred item" in void(summit, "IN", Status.NEGOTIATING, "negotiating", "RU")
    assert "cannot go from final" in void(summit, "IN", Status.FINAL, "deferred", "RU")


def test_final_needs_every_capital_on_the_agreed_text() -> None:
    summit = _summit(chair=True)
    confirm = rules.confirm_void
    assert confirm(summit, Status.AGREED_AD_REF, "r2", "r2", "IN", {}) == ""
    assert "no party" in confirm(summit, Status.AGREED_AD_REF, "r2", "r2", "CH", {})
    assert "not agreed ad referendum" in confirm(summit, Status.NEGOTIATING, None, "r2", "IN",
                                                 {})
    assert "other than the agreed" in confirm(summit, Status.AGREED_AD_REF, "r2", "r1", "IN",
                                              {})
    assert rules.final_on(summit, {"IN": "r2"}) is None
    assert rules.final_on(summit, {"IN": "r2", "RU": "r1"}) is None
    assert rules.final_on(summit, {"IN": "r2", "RU": "r2"}) == "r2"


def test_text_status() -> None:
    summit = _summit()
    v1, v2 = _rev("r1", "IN"), _rev("r2", "RU", "A [b][c].")
    assert rules.text_status(summit, [], {}) == Status.PROPOSED
    assert rules.text_status(summit, [v1], {"IN": "r1"}) == Status.PROPOSED
    assert rules.text_status(summit, [v1], {"IN": "r1", "RU": "r1"}) == Status.AGREED_AD_REF
    assert rules.text_status(summit, [v1, v2], {"IN": "r1", "RU": "r2"}) == Status.BRACKETED
    v3 = _rev("r3", "IN")
    assert rules.text_status(summit, [v1, v2, v3], {"IN": "r3", "RU": "r2"}) == \
        Status.NEGOTIATING


@settings(deadline=None)
@given(chair=st.booleans(), latest=st.one_of(st.none(), st.sampled_from(["r1", "r2"])),
       text=st.sampled_from(["Clean.", "A [b].", "[a] [b]", "x [a [b]]"]),
       positions=st.dictionaries(st.sampled_from(["IN", "RU", "CH", "XX"]),
                                 st.sampled_from(["r1", "r2", "r3"]), max_size=4))
def test_is_agreed_says_what_agreement_gap_says(chair: bool, latest: str | None, text: str,
                                                positions: dict[str, str]) -> None:
    # The status asks the predicate; the messages ask agreement_gap: one rule, two answers.
    summit = _summit(chair=chair)
    revision = _rev(latest, "IN", text) if latest else None
    assert rules.is_agreed(summit, revision, positions) == (
        rules.agreement_gap(summit, revision, positions) is None)



def _status_as_worded(summit: Summit, tabled: list[Revision],
                      positions: dict[str, str]) -> Status:
    """The status from the rule as `agreement_gap` words it: what `text_status` computes."""
    latest = tabled[-1] if tabled else None
    if rules.agreement_gap(summit, latest, positions) is None:
        return Status.AGREED_AD_REF
    if latest is not None and latest.brackets:
        return Status.BRACKETED
    return Status.PROPOSED if len(tabled) <= 1 else Status.NEGOTIATING


REVISIONS = st.lists(st.tuples(st.sampled_from(["IN", "RU", "CH"]),
                               st.sampled_from(["Clean.", "A [b].", "[a] [b]", "x [a [b]]",
                                                "[link](u)", "Clean. "]),
                               st.sampled_from(list(Code))), max_size=5)


@settings(deadline=None)
@given(chair=st.booleans(), texts=REVISIONS,
       positions=st.dictionaries(st.sampled_from(["IN", "RU", "CH", "XX"]),
                                 st.sampled_from(["r0", "r1", "r2", "r3", "r9"]), max_size=4))
def test_the_text_status_is_the_rule_as_agreement_gap_words_it(
        chair: bool, texts: list[tuple[str, str, Code]], positions: dict[str, str]) -> None:
    summit = _summit(chair=chair)
    tabled = [_rev(f"r{n}", who, text, code) for n, (who, text, code) in enumerate(texts)]
    assert rules.text_status(summit, tabled, positions) == _status_as_worded(
        summit, tabled, positions)


@settings(deadline=None)
@given(texts=REVISIONS, code=st.sampled_from(list(Code)), who=st.sampled_from(["IN", "RU"]),
       text=st.sampled_from(["Clean.", "A [b].", "Clean. "]),
       parents=st.lists(st.sampled_from(["r0", "r1", "r2", "r3", "r9"]), max_size=3),
       positions=st.dictionaries(st.sampled_from(["IN", "RU", "CH"]),
                                 st.sampled_from(["r0", "r1", "r2", "r3", "r9"]), max_size=3))
def test_who_stands_on_a_new_text_is_what_the_rules_say(
        texts: list[tuple[str, str, Code]], code: Code, who: str, text: str,
        parents: list[str], positions: dict[str, str]) -> None:
    # The fold asks `state._standing`, which asks the rules only for a NOC.
    from agenda.state import _standing

    by_uuid = {f"r{n}": _rev(f"r{n}", w, t, c) for n, (w, t, c) in enumerate(texts)}
    revision = _rev("r8", who, text, code, tuple(parents))
    assert _standing(revision, by_uuid, positions) == rules.standing_on_new_text(
        revision, rules.restated_by(revision, by_uuid), positions)

def test_final_wins_over_a_text_tabled_concurrently(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.json", create=True, clock=TickingClock())
    slug = ws.create_summit("Final", TWO, slug="s", sections=["One"]).slug
    concurrent, confirm_id = tabled_against_final(ws, slug, "One", "1.1")
    state = ws.state(slug)
    item = state.item("1.1")
    history = state.history(item)
    if concurrent.id > confirm_id:  # ordered after the final confirm: final wins
        assert item.status == Status.FINAL
        assert history[-1].after_final and history[-1].text == "Too late."
    else:  # ordered before it: the agreement lapsed, and the confirm is void
        assert item.status == Status.NEGOTIATING
        assert state.decisions(item)[-1].void


def test_order_keys_always_fit_between() -> None:
    low, high = key_between(None, None), None
    keys = [low]
    for _ in range(200):
        keys.append(key_between(keys[-1], high))
    for index in range(1, len(keys)):
        middle = key_between(keys[index - 1], keys[index])
        assert keys[index - 1] < middle < keys[index]
    assert key_between(None, [5]) < [5] and [5] < key_between([5], [5, 10]) < [5, 10]


@given(st.binary(min_size=32, max_size=32))
def test_uuid_from_id_spells_the_uuid_as_the_uuid_module_does(digest: bytes) -> None:
    import uuid

    rid = digest.hex()
    assert records.uuid_from_id(rid) == str(uuid.UUID(bytes=digest[:16]))
    assert records.uuid_from_id(rid.upper()) == str(uuid.UUID(bytes=digest[:16]))


def test_bulk_leaves_the_collector_as_it_found_it() -> None:
    import gc

    from agenda.state import bulk

    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        with bulk():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk():
            pass
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


@pytest.mark.parametrize("kind, body, message", [
    (records.REVISION, {"item": "x", "code": "MOD"}, "no 'text'"),
    (records.REVISION, {"item": "x", "code": "XYZ", "text": "t"}, "'code'"),
    (records.REVISION, {"item": ["x"], "code": "MOD", "text": "t"}, "'item'"),
    (records.REVISION, {"item": "x", "code": "MOD", "text": "t", "parents": "p"}, "'parents'"),
    (records.ITEM_ADD, {"title": "T", "section": "s", "order": []}, "'order'"),
    (records.ITEM_ADD, {"title": "T", "section": "s", "order": ["1"]}, "'order'"),
    (records.ITEM_ADD, {"title": "T", "section": "s", "order": [True]}, "'order'"),
    (records.ITEM_TAG, {"item": "x", "tags": [1]}, "'tags'"),
    (records.NOTE, {"item": "x"}, "no 'text'"),
    (records.ACCEPTANCE, {"item": "x", "revision": None}, "'revision'"),
    (records.LEGACY_STATUS, {"item": "x", "status": "won"}, "'status'"),
    (records.SUMMIT_UPDATE, {"fields": {"title": 3}}, "'fields'"),
    (records.SECTION_PLACE, {"section": "s"}, "no 'order'"),
])
def test_bodies_of_the_wrong_shape_are_refused_by_name(kind: str, body: dict,
                                                       message: str) -> None:
    genesis, _ = _vectors()
    scope = "joint"
    with pytest.raises(records.RecordError, match=message):
        records.make(kind=kind, summit=genesis.id, scope=scope, author="IN", lamport=2,
                     deps=[genesis.id], created="2021-02-11T09:01:00.000000Z", body=body)
    # ... and a stored one, with a valid id, is refused by a strict read (check, a receive).
    content = {**records.encode(genesis)["record"], "kind": kind, "summit": genesis.id,
               "author": "IN", "lamport": 2, "deps": [genesis.id], "body": body}
    doc = {"id": records.record_id(content), "record": content}
    with pytest.raises(records.RecordError, match=message):
        records.decode(doc)


@pytest.mark.parametrize("body, message", [
    ({"title": "T"}, "no 'delegations'"),
    ({"title": "T", "delegations": []}, "'delegations'"),
    ({"title": "T", "delegations": [{"code": "IN"}]}, "'delegations'"),
    ({"title": "T", "delegations": [{"code": "IN", "name": "I", "extra": 1}]}, "'delegations'"),
    ({"title": "T", "delegations": [{"code": "IN", "name": "I"}], "chair": "CH"}, "'chair'"),
    ({"title": "T", "delegations": [{"code": "IN", "name": "I"}],
      "sections": [{"uuid": "u", "title": "S"}]}, "'sections'"),
    ({"title": "T", "delegations": [{"code": "IN", "name": "I"}], "legacy": True}, "0.1 uuid"),
])
def test_a_genesis_of_the_wrong_shape_is_refused(body: dict, message: str) -> None:
    with pytest.raises(records.RecordError, match=message):
        records.make(kind=records.GENESIS, summit="", scope="joint", author="", lamport=1,
                     deps=[], created="2021-02-11T09:00:00.000000Z", body=body)


def test_a_received_record_of_the_wrong_shape_is_refused_and_the_rest_imported(
        tmp_path: Path) -> None:
    from agenda.model import Delegation

    ws = Workspace(tmp_path / "ws.json", create=True)
    entry = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")])
    stored, _ = ws.stored(entry.slug)
    genesis = records.decode(stored[0])
    heads = records.heads(records.decode(doc) for doc in stored)
    lamport = 1 + max(records.decode(doc).lamport for doc in stored)
    good = records.make(kind=records.SECTION_ADD, summit=genesis.id, scope="joint",
                        author="RU", lamport=lamport, deps=heads,
                        created="2021-02-11T09:01:00.000000Z",
                        body={"title": "Culture", "order": [1 << 40]})
    content = {**good.content(), "body": {"title": "Sport", "order": "first"}}
    bad = {"id": records.record_id(content), "record": content, "sig": None}
    added, refused = ws.import_records(entry.slug, [bad, records.encode(good)])
    assert added == 1
    assert len(refused) == 1 and "'order'" in refused[0]
    assert [s.title for s in ws.summit(entry.slug).sections][-1] == "Culture"


# decode_all: one loop for a summit's records, the same records and refusals as decode --------

_FIELDS = ["v", "kind", "summit", "scope", "author", "lamport", "deps", "created", "body",
           "signer"]
_ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False),
    st.sampled_from(["", "joint", "team:IN", "team:RU", "IN", "RU", "x", records.REVISION,
                     records.NOTE, records.ITEM_ADD, records.GENESIS, "2021-02-11T09:01Z"]),
    st.lists(st.sampled_from(["a", "b", "c", ""]), max_size=3),
    st.dictionaries(st.sampled_from(["item", "text", "legacy", "uuid"]),
                    st.one_of(st.text(max_size=3), st.booleans()), max_size=3))


@st.composite
def _stored(draw: st.DrawFn) -> object:
    """A stored record as a journal may hold it: mostly valid (joint or a team's, at most a
    few deps, legacy or not), some fields changed, dropped or mistyped, its id recomputed
    or not, odd signatures, and now and then no record at all."""
    scope = draw(st.sampled_from(["joint", "team:IN", "team:RU"]))
    kind = draw(st.sampled_from([records.REVISION, records.NOTE] if scope != "joint" else
                                [records.REVISION, records.ITEM_ADD, records.ACCEPTANCE]))
    content = {"v": 1, "kind": kind, "summit": "s" * draw(st.integers(1, 3)), "scope": scope,
               "author": scope.removeprefix("team:") if scope != "joint" else
               draw(st.sampled_from(["IN", "RU", ""])),
               "signer": draw(st.sampled_from([None, "k"])),
               "lamport": draw(st.integers(1, 5)),
               "deps": sorted(draw(st.sets(st.sampled_from(["a", "b", "c"]), max_size=3))),
               "created": "2021-02-11T09:01:00.000000Z",
               "body": {"item": "i", "text": "T.", **draw(st.sampled_from(
                   [{}, {"legacy": True, "uuid": "old"}, {"legacy": False}]))}}
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=2)):
        if draw(st.booleans()):
            content[name] = draw(_ODD)
        else:
            content.pop(name, None)
    try:
        rid = records.sha256(records.orjson.dumps(
            content, option=records.orjson.OPT_SORT_KEYS)).hexdigest()
    except TypeError:
        rid = "0" * 64
    doc: dict[str, object] = {"id": rid if draw(st.booleans()) or draw(st.booleans())
                              else "f" * 64, "record": content}
    sig = draw(st.sampled_from([None, None, "sig", 7]))
    if sig is not None:
        doc["sig"] = sig
    return draw(st.sampled_from([doc, doc, doc, {"id": rid}, [content]]))


def _outcome(decode: object) -> object:
    try:
        record = decode()  # type: ignore[operator]
    except Exception as exc:  # the refusal, as its type and words
        return type(exc), str(exc)
    return record, list(record.__dict__.items())  # every field, kept values and their order


@settings(max_examples=200, deadline=None)
@given(st.lists(_stored(), max_size=6))
def test_decode_all_gives_what_decode_gives(docs: list) -> None:
    one_by_one = [_outcome(lambda d=d: records.decode(d, strict=False)) for d in docs]
    for doc, expected in zip(docs, one_by_one, strict=True):
        assert _outcome(lambda d=doc: records.decode_all([d])[0]) == expected
    if all(not isinstance(o[0], type) for o in one_by_one):
        assert [_outcome(lambda r=r: r) for r in records.decode_all(docs)] == one_by_one


def test_decode_all_verifies_every_id_as_the_hasher_changes_midway(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # decode_all calls OpenSSL's SHA-256 straight once digest.py has moved to it for good:
    # the records before and after the move are verified alike, a forged id refused.
    from agenda import digest

    made = [records.make(kind=records.NOTE, summit="s", scope="joint", author="IN",
                         lamport=n + 1, deps=[], created="2021-02-11T09:01:00.000000Z",
                         body={"item": "i", "text": f"Note {n}."}) for n in range(12)]
    docs = [records.encode(r) for r in made]
    forged = {**docs[9], "id": docs[8]["id"]}
    monkeypatch.setattr(digest, "_openssl", None)
    monkeypatch.setattr(digest, "_left", 1000)  # a few records' worth
    assert [r.id for r in records.decode_all(docs)] == [r.id for r in made]
    assert digest.settled() is not None
    with pytest.raises(records.RecordError, match="does not match its content"):
        records.decode_all([*docs[:9], forged])
    monkeypatch.setattr(digest, "_openssl", None)
    monkeypatch.setattr(digest, "_left", 1000)
    with pytest.raises(records.RecordError, match="does not match its content"):
        records.decode_all([forged, *docs])


def test_decode_all_moves_to_openssl_first_for_a_summit_past_the_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Many records past the budget: OpenSSL's from the first (the own module hashes none of
    # them, at a tenth of the speed); a few records within it: the own module, as before.
    from agenda import digest

    if digest._own is None:
        pytest.skip("this Python has no SHA-256 module of its own")
    made = [records.make(kind=records.NOTE, summit="s" * 64, scope="joint", author="IN",
                         lamport=n + 1, deps=[], created="2021-02-11T09:01:00.000000Z",
                         body={"item": "i", "text": f"Note {n}. " + "words " * 150})
            for n in range(80)]
    docs = [records.encode(r) for r in made]
    for left, records_read, settles in ((30_000, docs, True), (30_000, docs[:17], False),
                                        (1 << 30, docs, False)):
        monkeypatch.setattr(digest, "_openssl", None)
        monkeypatch.setattr(digest, "_left", left)
        assert [r.id for r in records.decode_all(records_read)] == \
            [r.id for r in made[:len(records_read)]]
        assert (digest.settled() is not None) == settles
        assert (digest._left == left) == settles  # nothing hashed by the own module


@pytest.mark.parametrize("extra", [{}, {"legacy": True, "uuid": "old-uuid"},
                                   {"legacy": True, "uuid": 7}, {"legacy": True},
                                   {"legacy": False, "uuid": "not-used"}, {"legacy": 0}])
def test_a_decoded_record_keeps_the_uuid_the_property_gives(extra: dict) -> None:
    # decode and decode_all keep the uuid (a converted 0.1 record's old one included),
    # which `Record.uuid` otherwise works out when first asked.
    made = records.make(kind=records.NOTE, summit="s", scope="joint", author="IN", lamport=1,
                        deps=[], created="2021-02-11T09:01:00.000000Z",
                        body={"item": "i", "text": "T.", **extra})
    assert "uuid" not in vars(made)
    doc = records.encode(made)
    for record in (records.decode(doc), records.decode(doc, strict=False),
                   records.decode_all([doc])[0]):
        assert vars(record)["uuid"] == made.uuid
