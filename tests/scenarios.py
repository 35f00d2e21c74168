"""Scenarios several test modules build the same way."""

from __future__ import annotations

from agenda import records
from agenda.model import Status
from agenda.workspace import Workspace


def tabled_against_final(ws: Workspace, slug: str, section: str, number: str,
                         title: str = "Trade") -> tuple[records.Record, str]:
    """An item both sides make final, and a text Russia tabled elsewhere having seen India's
    confirm but not its own: the same clock as Russia's confirm, so the ids decide which
    comes first. Returns that text's record (imported already) and the confirm's id."""
    ws.add_item(slug, section=section, title=title, text="Agreed words.", delegation="IN")
    ws.accept(slug, number, delegation="RU")
    ws.set_status(slug, number, Status.FINAL, actor="IN")
    late = ws.stored(slug)[0]
    ws.set_status(slug, number, Status.FINAL, actor="RU")
    last = records.decode(late[-1])
    concurrent = records.make(
        kind=records.REVISION, summit=records.decode(late[0]).id, scope="joint", author="RU",
        lamport=last.lamport + 1, deps=[last.id], created="2021-02-11T11:00:00.000000Z",
        body={"item": ws.state(slug).item(number).uuid, "code": "MOD", "text": "Too late.",
              "justification": "", "parents": []})
    confirm_id = records.decode(ws.stored(slug)[0][-1]).id
    assert ws.import_records(slug, [records.encode(concurrent)]) == (1, [])
    return concurrent, confirm_id
