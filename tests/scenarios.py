"""Scenarios several test modules build the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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


class MergesCounted:
    """What `count_merges` counts: each merge (its base text) and each compilation's bracket
    scan (its text), with the real scanner beside them."""

    def __init__(self, real_count: Callable[[str], int]) -> None:
        self.merged: list[str] = []
        self.scanned: list[str] = []
        self.real_count = real_count


def count_merges(monkeypatch: pytest.MonkeyPatch) -> MergesCounted:
    """Count the merges (`merge.merge_texts`) and the compilations' bracket scans
    (`brackets.bracket_count`) from here on, with an empty cache of merges; the revisions'
    own counter (the rules' count, `model._counter`) stays the real scanner, uncounted."""
    from agenda import brackets, merge, model
    from agenda import state as state_module

    real_merge, real_count = merge.merge_texts, brackets.bracket_count
    seen = MergesCounted(real_count)

    def merged(base: str, texts: Any, **kw: Any) -> merge.MergeResult:
        seen.merged.append(base)
        return real_merge(base, texts, **kw)

    def scanned(text: str) -> int:
        seen.scanned.append(text)
        return real_count(text)

    monkeypatch.setattr(merge, "merge_texts", merged)
    monkeypatch.setattr(state_module, "_MERGES", {})
    monkeypatch.setattr(model, "_counter", real_count)
    monkeypatch.setattr(brackets, "bracket_count", scanned)
    return seen
