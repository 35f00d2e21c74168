"""Negotiation operations: tabling, acceptance, status rules, visibility, order, events."""

from __future__ import annotations

import json

import pytest

from agenda import records
from agenda.model import (
    TRANSITIONS,
    AgendaError,
    Code,
    Delegation,
    NotFound,
    Status,
    check_transition,
    parse_status,
    slugify,
)
from agenda.workspace import Workspace


def test_new_item_is_an_add_tabled_by_its_proposer(ws: Workspace, slug: str) -> None:
    state = ws.state(slug)
    item = state.item("1.1")
    (first,) = state.history(item)
    assert (first.label, first.code, first.delegation, first.tabled) == ("v1", Code.ADD, "IN", True)
    assert item.status == Status.PROPOSED and item.owner == "IN"
    assert first.parents == ()
    assert len(first.uuid) == 36 and first.created.tzinfo is not None


def test_counter_proposal_moves_item_to_negotiating(ws: Workspace, slug: str) -> None:
    rev = ws.table(slug, "1.1", delegation="RU", text="The Sides support Asia-Pacific.",
                   why="Russian terminology")
    state = ws.state(slug)
    assert rev.label == "v2" and rev.justification == "Russian terminology"
    assert state.item("1.1").status == Status.NEGOTIATING
    assert rev.parents == (state.history(state.item("1.1"))[0].uuid,)


def test_bracketed_text_makes_item_bracketed(ws: Workspace, slug: str) -> None:
    ws.table(slug, "1.1", delegation="RU", text="The Sides support [Indo-Pacific][Asia-Pacific].")
    assert ws.state(slug).item("1.1").status == Status.BRACKETED


def test_internal_draft_is_seen_only_by_its_delegation(ws: Workspace, slug: str) -> None:
    draft = ws.table(slug, "1.1", delegation="IN", text="SECRET fallback wording",
                     internal=True)
    assert draft.label == "d1"
    for viewer in (None, "RU"):
        state = ws.state(slug, viewer)
        texts = [r.text for r in state.history(state.item("1.1"))]
        assert "SECRET fallback wording" not in texts
        assert all(not e.private_to for e in state.events)
    mine = ws.state(slug, "IN")
    assert mine.latest_draft(mine.item("1.1")) == draft
    # A draft does not move the item, nor leave a gap in the tabled numbering.
    assert mine.item("1.1").status == Status.PROPOSED
    assert ws.table(slug, "1.1", delegation="RU", text="Counter text.").label == "v2"


def test_notes_are_private(ws: Workspace, slug: str) -> None:
    ws.add_note(slug, "1.1", delegation="IN", text="Red line: keep Indo-Pacific")
    assert [n.text for n in ws.state(slug, "IN").item_notes(ws.state(slug).item("1.1"))] == [
        "Red line: keep Indo-Pacific"]
    for viewer in (None, "RU"):
        state = ws.state(slug, viewer)
        assert state.item_notes(state.item("1.1")) == ()


def test_acceptance_by_every_delegation_agrees_the_item(ws: Workspace, slug: str) -> None:
    ws.table(slug, "1.1", delegation="RU", text="The Sides support an open region.")
    ws.accept(slug, "1.1", delegation="IN")
    state = ws.state(slug)
    item = state.item("1.1")
    assert item.status == Status.AGREED_AD_REF
    assert state.accepted_by(state.latest(item)) == {"IN", "RU"}
    ws.set_status(slug, "1.1", Status.FINAL, actor="IN")
    # Final means confirmed by every capital: India's alone leaves it agreed ad referendum.
    assert ws.state(slug).item("1.1").status == Status.AGREED_AD_REF
    with pytest.raises(AgendaError, match="IN has confirmed it already"):
        ws.set_status(slug, "1.1", Status.FINAL, actor="IN")
    ws.set_status(slug, "1.1", Status.FINAL, actor="RU")
    assert ws.state(slug).item("1.1").status == Status.FINAL


def test_accept_defaults_to_the_other_sides_latest_text(ws: Workspace, slug: str) -> None:
    ws.table(slug, "1.1", delegation="RU", text="Russia's counter-proposal.")
    ws.table(slug, "1.1", delegation="IN", text="India's answer.")
    accepted = ws.accept(slug, "1.1", delegation="IN")
    state = ws.state(slug)
    assert state.revision(state.item("1.1"), "v2").uuid == accepted.revision
    assert ws.state(slug).item("1.1").status == Status.NEGOTIATING  # v3 is the latest text


def test_accepting_own_text_or_draft_is_refused(ws: Workspace, slug: str) -> None:
    with pytest.raises(AgendaError, match="no text tabled by another delegation"):
        ws.accept(slug, "1.1", delegation="IN")
    with pytest.raises(AgendaError, match="own text"):
        ws.accept(slug, "1.1", delegation="IN", revision="v1")
    ws.table(slug, "1.1", delegation="RU", text="Draft only", internal=True)
    with pytest.raises(NotFound):
        ws.accept(slug, "1.1", delegation="IN", revision="d1")  # IN cannot even see it
    with pytest.raises(AgendaError, match="internal draft"):
        ws.accept(slug, "1.1", delegation="RU", revision="d1")


def test_agreement_needs_every_acceptance_and_no_brackets(ws: Workspace, slug: str) -> None:
    with pytest.raises(AgendaError, match="RU has not accepted v1"):
        ws.set_status(slug, "1.1", Status.AGREED_AD_REF)
    ws.table(slug, "1.1", delegation="RU", text="Support [open][inclusive] region.")
    ws.accept(slug, "1.1", delegation="IN")
    assert ws.state(slug).item("1.1").status == Status.BRACKETED
    with pytest.raises(AgendaError, match="still has 2 brackets"):
        ws.set_status(slug, "1.1", Status.AGREED_AD_REF)


def test_new_text_after_agreement_lapses_it(ws: Workspace, slug: str) -> None:
    ws.accept(slug, "1.1", delegation="RU")
    assert ws.state(slug).item("1.1").status == Status.AGREED_AD_REF
    ws.table(slug, "1.1", delegation="RU", text="Second thoughts.")
    state = ws.state(slug)
    assert state.item("1.1").status == Status.NEGOTIATING
    assert "lapses" in state.events[-1].detail


def test_noc_restates_the_other_side_and_agrees(ws: Workspace, slug: str) -> None:
    rev = ws.table(slug, "1.1", delegation="RU", code=Code.NOC, why="Acceptable")
    state = ws.state(slug)
    first = state.history(state.item("1.1"))[0]
    assert rev.text == first.text and rev.parents == (first.uuid,)
    assert state.item("1.1").status == Status.AGREED_AD_REF
    with pytest.raises(AgendaError, match="use MOD"):
        ws.table(slug, "1.1", delegation="RU", code=Code.NOC, text="different")


def test_sup_may_have_empty_text_and_add_is_refused(ws: Workspace, slug: str) -> None:
    assert ws.table(slug, "1.1", delegation="RU", code=Code.SUP, text="").text == ""
    with pytest.raises(AgendaError, match="first revision"):
        ws.table(slug, "1.1", delegation="RU", code=Code.ADD, text="x")
    with pytest.raises(AgendaError, match="empty"):
        ws.table(slug, "1.1", delegation="RU", code=Code.MOD, text="   ")


def test_final_and_withdrawn_items_refuse_new_text(ws: Workspace, slug: str) -> None:
    with pytest.raises(AgendaError, match=r"only the item's owner \(IN\) may withdraw"):
        ws.set_status(slug, "1.1", Status.WITHDRAWN, actor="RU")
    ws.set_status(slug, "1.1", Status.WITHDRAWN, actor="IN")
    with pytest.raises(AgendaError, match="withdrawn; set it back to proposed"):
        ws.table(slug, "1.1", delegation="RU", text="x")
    ws.set_status(slug, "1.1", Status.PROPOSED, actor="IN")
    ws.accept(slug, "1.1", delegation="RU")
    ws.set_status(slug, "1.1", Status.FINAL, actor="IN")
    ws.set_status(slug, "1.1", Status.FINAL, actor="RU")
    with pytest.raises(AgendaError, match="final; its text can no longer change"):
        ws.table(slug, "1.1", delegation="IN", text="x")


@pytest.mark.parametrize("current", list(Status))
def test_transition_table_is_the_only_rule(current: Status) -> None:
    for target in Status:
        if target in TRANSITIONS[current]:
            check_transition("1.1", current, target)
        else:
            with pytest.raises(AgendaError, match="cannot go from|already"):
                check_transition("1.1", current, target)


def test_illegal_transition_message_lists_the_legal_ones(ws: Workspace, slug: str) -> None:
    with pytest.raises(AgendaError) as err:
        ws.set_status(slug, "1.1", Status.FINAL)
    assert "cannot go from proposed to final" in str(err.value)
    assert "negotiating" in str(err.value)
    assert ws.state(slug).item("1.1").status == Status.PROPOSED


def test_parse_status_accepts_variants_and_rejects_others() -> None:
    assert parse_status("Agreed_Ad_Ref") == Status.AGREED_AD_REF
    with pytest.raises(AgendaError, match="Unknown status"):
        parse_status("done")


def test_item_numbers_follow_order_and_moves(ws: Workspace, slug: str) -> None:
    for title in ("Second", "Third"):
        ws.add_item(slug, section="1", title=title, text=f"{title} text", delegation="RU")
    ws.add_item(slug, section="Health", title="Vaccines", text="Sputnik V", delegation="RU")
    assert [(i.number, i.title) for i in ws.state(slug).items] == [
        ("1.1", "Regional architecture"), ("1.2", "Second"), ("1.3", "Third"),
        ("3.1", "Vaccines")]
    ws.shift_item(slug, "1.3", -1)
    assert [i.title for i in ws.state(slug).items][:3] == ["Regional architecture", "Third",
                                                           "Second"]
    ws.shift_item(slug, "1.3", +1)  # crosses into the next section
    assert ws.state(slug).item("2.1").title == "Second"
    ws.move_item(slug, "2.1", section="Health", position=1)
    assert [(i.number, i.title) for i in ws.state(slug).items][-2:] == [
        ("3.1", "Second"), ("3.2", "Vaccines")]
    ws.move_section(slug, "Health", 1)
    assert ws.state(slug).item("1.2").title == "Vaccines"
    with pytest.raises(AgendaError, match="already at the top"):
        ws.shift_item(slug, "1.1", -1)


def test_retitle_and_sections(ws: Workspace, slug: str) -> None:
    ws.retitle_item(slug, "1.1", "Indo-Pacific")
    assert ws.state(slug).item("1.1").title == "Indo-Pacific"
    ws.add_section(slug, "Energy")
    assert ws.state(slug).summit.sections[-1].title == "Energy"
    with pytest.raises(AgendaError, match="already exists"):
        ws.add_section(slug, "energy")
    with pytest.raises(NotFound, match="No section 'Space'"):
        ws.add_item(slug, section="Space", title="x", text="y", delegation="IN")


def test_every_operation_appends_an_event(ws: Workspace, slug: str) -> None:
    before = len(ws.state(slug, "IN").events)
    ws.table(slug, "1.1", delegation="RU", text="Counter.")
    ws.add_note(slug, "1.1", delegation="IN", text="note")
    ws.retitle_item(slug, "1.1", "New title")
    ws.shift_item(slug, "1.1", +1)
    actions = [e.action for e in ws.state(slug, "IN").events[before:]]
    assert actions == ["revision.table", "item.status", "note.add", "item.retitle", "item.move"]


def test_errors_name_what_was_wrong(ws: Workspace, slug: str) -> None:
    with pytest.raises(NotFound, match='No item 3.4 in summit "India–Russia Summit 2021"'):
        ws.table(slug, "3.4", delegation="IN", text="x")
    with pytest.raises(NotFound, match="No delegation 'CN'"):
        ws.table(slug, "1.1", delegation="CN", text="x")
    with pytest.raises(NotFound, match="No revision v9"):
        ws.accept(slug, "1.1", delegation="RU", revision="v9")


def test_failed_operation_leaves_the_files_unchanged(ws: Workspace, slug: str) -> None:
    files = sorted(ws.summits_dir.iterdir()) + [ws.path]
    before = {p: p.read_bytes() for p in files}
    for bad in (lambda: ws.table(slug, "1.1", delegation="IN", text="\x00binary"),
                lambda: ws.set_status(slug, "1.1", Status.FINAL),
                lambda: ws.add_item(slug, section="1", title="  ", text="x", delegation="IN")):
        with pytest.raises(AgendaError):
            bad()
    assert {p: p.read_bytes() for p in files} == before


def test_create_summit_validation(ws: Workspace) -> None:
    two = [Delegation("IN", "India"), Delegation("RU", "Russia")]
    with pytest.raises(AgendaError, match="at least two"):
        ws.create_summit("Solo", two[:1])
    with pytest.raises(AgendaError, match="repeat"):
        ws.create_summit("Twice", [two[0], two[0]])
    with pytest.raises(AgendaError, match="capital letters"):
        ws.create_summit("Bad code", [Delegation("in dia", "India"), two[1]])
    with pytest.raises(AgendaError, match="empty"):
        ws.create_summit(" \t", two)
    with pytest.raises(AgendaError, match="control characters"):
        ws.create_summit("Title\x1b[2J", two)
    ws.create_summit("Summit", two, slug="s1")
    with pytest.raises(AgendaError, match="already exists"):
        ws.create_summit("Summit again", two, slug="s1")


def test_resolve_slug(ws: Workspace) -> None:
    with pytest.raises(NotFound, match="no summit yet"):
        ws.resolve_slug()
    two = [Delegation("IN", "India"), Delegation("RU", "Russia")]
    ws.create_summit("A", two, slug="a")
    assert ws.resolve_slug() == "a"
    ws.create_summit("B", two, slug="b")
    with pytest.raises(AgendaError, match="pick one with --summit \\(a, b\\)"):
        ws.resolve_slug()
    with pytest.raises(NotFound, match="No summit 'c'"):
        ws.resolve_slug("c")


def test_a_revision_is_named_by_the_hash_of_its_record(ws: Workspace, slug: str) -> None:
    rev = ws.table(slug, "1.1", delegation="RU", text="Counter.")
    state = ws.state(slug)
    parent = state.history(state.item("1.1"))[0]
    (stored,) = [doc for doc in ws.stored(slug)[0] if doc["id"] == rev.id]
    assert rev.hash == rev.id == records.record_id(stored["record"])
    assert stored["record"]["body"]["parents"] == [parent.uuid]
    # The label people read is not part of what is hashed: it is computed from the order.
    assert "v2" not in json.dumps(stored["record"]) and rev.label == "v2"
    assert rev.uuid == records.uuid_from_id(rev.id) and rev.short == "#" + rev.id[:6]


def test_compilation_brackets_each_sides_position(ws: Workspace, slug: str) -> None:
    ws.table(slug, "1.1", delegation="RU", text="The Sides support a free and open "
                                                "Asia-Pacific region.")
    ws.table(slug, "1.1", delegation="IN", text="The Sides support a free and open "
                                                "Indo-Pacific region.")
    compiled = ws.compile(slug, "1.1")
    assert "[IN: Indo-Pacific][RU: Asia-Pacific]" in compiled.result.text
    rev = ws.table_compilation(slug, "1.1", delegation="IN")
    assert rev.code == Code.CMP and len(rev.parents) == 2
    assert ws.state(slug).item("1.1").status == Status.BRACKETED


def test_two_workspaces_on_one_file_see_each_other(ws: Workspace, slug: str) -> None:
    other = Workspace(ws.path)
    other.table(slug, "1.1", delegation="RU", text="From another process.")
    assert ws.changed_on_disk()
    assert ws.state(slug).current_text(ws.state(slug).item("1.1")) == "From another process."
    ws.table(slug, "1.1", delegation="IN", text="And back.")
    assert other.state(slug).current_text(other.state(slug).item("1.1")) == "And back."
    assert [r.label for r in other.state(slug).history(other.state(slug).item("1.1"))] == [
        "v1", "v2", "v3"]


def test_slugify() -> None:
    assert slugify("India–Russia Summit 2021") == "india-russia-summit-2021"
    assert slugify("Саммит") == "summit"


def test_demo_builds_a_realistic_history(demo: Workspace) -> None:
    from agenda.demo import DEMO_SLUG

    state = demo.state(DEMO_SLUG)
    statuses = {i.status for i in state.items}
    assert {Status.AGREED_AD_REF, Status.FINAL, Status.BRACKETED, Status.NEGOTIATING} <= statuses
    indo = state.item("1.1")
    assert "[IN: " in state.current_text(indo) and "[RU: " in state.current_text(indo)
    internal = demo.state(DEMO_SLUG, "IN")
    assert any(not r.tabled for i in internal.items for r in internal.history(i))
    assert any(internal.item_notes(i) for i in internal.items)


def test_a_chair_tables_the_compilation_but_is_no_party(ws: Workspace) -> None:
    slug = ws.create_summit("Trilateral", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                            chair=Delegation("CH", "Chair"), sections=["One"]).slug
    ws.add_item(slug, section="One", title="Region", delegation="IN",
                text="Support the Indo-Pacific region.")
    ws.table(slug, "1.1", delegation="RU", text="Support the Asia-Pacific region.")
    rev = ws.table_compilation(slug, "1.1", delegation="CH")
    state = ws.state(slug)
    assert rev.delegation == "CH" and rev.code == Code.CMP and len(rev.parents) == 2
    assert set(state.positions(state.item("1.1"))) == {"IN", "RU"}  # the chair has none
    with pytest.raises(AgendaError, match="chair \\(CH\\) accepts no text"):
        ws.accept(slug, "1.1", delegation="CH")
    # Agreement waits for the parties only.
    ws.table(slug, "1.1", delegation="IN", text="Support the region.")
    ws.accept(slug, "1.1", delegation="RU")
    assert ws.state(slug).item("1.1").status == Status.AGREED_AD_REF
    with pytest.raises(AgendaError, match="code of its own"):
        ws.create_summit("Clash", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                         chair=Delegation("IN", "Chair"))
