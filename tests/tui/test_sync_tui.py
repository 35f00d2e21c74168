"""The app of a bound workspace: the sync line, the sync key, and acting as the home delegation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import OptionList
from tui_helpers import make_app, screen_text, settle

from agenda.exchange import sync
from agenda.exchange.pair import SLUG, build_pair
from agenda.workspace import Workspace
from tui.widgets.sync_state import SyncState

SIZES = [(120, 36), (80, 24)]


def _messages(app: object) -> list[str]:
    return [n.message for n in app._notifications  # type: ignore[attr-defined]
            if "automatic backup" not in n.message]


@pytest.mark.parametrize("size", SIZES)
async def test_the_sync_key_brings_the_other_sides_texts_and_says_so(
        tmp_path: Path, size: tuple[int, int]) -> None:
    paths = build_pair(tmp_path / "pair")
    russia = Workspace(paths["RU"])
    russia.table(SLUG, "1.1", delegation="RU", text="The Sides support an open region.")
    russia.table(SLUG, "2.1", delegation="RU", text="The corridor will open.")
    sync.sync(russia)
    russia.close()
    app = make_app(paths["IN"])
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        line = app.screen.query_one(SyncState)
        assert line.display
        assert "synced just now" in screen_text(app)  # build_pair synced India last
        await pilot.press("S")
        await settle(pilot, 5)
        shown = screen_text(app)
        assert "synced just now · RU tabled 2 texts" in shown
        assert any(m.startswith(f"{SLUG}: 2 new records") for m in _messages(app))
        state = app.state
        assert state is not None
        assert "The Sides support an open region." in [
            r.text for r in state.history(state.item("1.1"))]
        await pilot.press("3")  # History: RU's texts are provisional until India writes
        await settle(pilot)
        assert re.search(r"v\d+\* ", screen_text(app))
        await pilot.press("S")
        await settle(pilot, 5)
        assert "nothing new" in _messages(app)[-1]
        assert "RU tabled" not in screen_text(app)


async def test_a_bound_workspace_acts_only_as_its_home_delegation(tmp_path: Path) -> None:
    paths = build_pair(tmp_path / "pair")
    app = make_app(paths["IN"], as_="RU")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert app.acting_as == "IN"
        assert any("This workspace is IN's" in m for m in _messages(app))
        await pilot.press("v")
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        assert len(prompts) == 2 and prompts[0].startswith("IN") and "Joint view" in prompts[1]
        assert not any("RU" in p for p in prompts)


async def test_no_remote_and_never_synced_are_said(tmp_path: Path) -> None:
    paths = build_pair(tmp_path / "pair")
    ws = Workspace(paths["IN"])
    ws.exchange_put("remotes", {})
    ws.close()
    app = make_app(paths["IN"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no remote  (S: sync)" in screen_text(app)
    (sync.exchange_dir(Workspace(paths["RU"])) / sync.STATE_FILE).unlink()
    app = make_app(paths["RU"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "not synced yet" in screen_text(app)


async def test_an_unbound_workspace_shows_no_sync_line(pair_path: Path) -> None:
    app = make_app(pair_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(SyncState).display
        await pilot.press("S")
        await settle(pilot)
        assert any("exchanges nothing" in m for m in _messages(app))
        assert app.is_running


def test_positions_name_a_split_position_and_mark_provisional_labels(pair_path: Path) -> None:
    from agenda.exchange.stability import Marks
    from tui.widgets.positions import compare_positions

    ws = Workspace(pair_path)
    state = ws.state("pair", "IN")
    item = state.item("1.1")
    first, second = state.history(item)[:2]
    marks = Marks(provisional=frozenset({second.id}),
                  split={item.uuid: {"IN": (first.id, second.id)}})
    summary, columns = compare_positions(state, item, marks)
    assert f"IN has two positions: {first.label} and {second.label}" in summary.plain
    headings = [c.heading.plain for c in columns]
    assert any(f"{second.label}* " in h for h in headings)
    assert not any(f"{first.label}*" in h for h in headings)
    plain_summary, _ = compare_positions(state, item)
    assert "positions:" not in plain_summary.plain and "*" not in "".join(
        c.heading.plain for c in compare_positions(state, item)[1])
    ws.close()
