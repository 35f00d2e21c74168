"""Internal drafts and notes never reach another delegation's view or a joint output.

Every internal draft, its justification and every note of the demo carry a unique marker;
then every read path of the CLI is walked as the joint view and as each delegation.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from agenda.cli import build_parser, main
from agenda.demo import DEMO_SLUG
from agenda.workspace import Workspace

CODES = ("IN", "RU")


def marker(code: str, n: int) -> str:
    return f"SECRET-{code}-{n:03d}"


@pytest.fixture
def planted(demo: Workspace) -> Workspace:
    counter = itertools.count()
    state = demo.state(DEMO_SLUG)
    for item in state.items:
        if item.status.value in ("final", "withdrawn"):
            continue
        for code in CODES:
            demo.table(DEMO_SLUG, item.number, delegation=code, internal=True,
                          text=f"Draft {marker(code, next(counter))} text",
                          why=f"Because {marker(code, next(counter))}")
            demo.add_note(DEMO_SLUG, item.number, delegation=code,
                             text=f"Note {marker(code, next(counter))}")
    for code in CODES:  # the demo's own internal material, whatever its wording
        mine = demo.state(DEMO_SLUG, code)
        for item in mine.items:
            for rev in mine.history(item):
                if not rev.tabled:
                    assert rev.delegation == code
            for note in mine.item_notes(item):
                assert note.delegation == code
    return demo


def _internal_texts(ws: Workspace, code: str) -> list[str]:
    """Every internal string of one delegation (drafts, justifications, notes), incl. demo's."""
    state = ws.state(DEMO_SLUG, code)
    texts = []
    for item in state.items:
        texts += [r.text for r in state.history(item) if not r.tabled]
        texts += [r.justification for r in state.history(item) if not r.tabled and
                  r.justification]
        texts += [n.text for n in state.item_notes(item)]
    tabled = {r.text for i in state.items for r in state.tabled(i)}
    return [t for t in texts if t not in tabled]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        main(argv)
    except SystemExit:
        pass
    out, err = capsys.readouterr()
    return out + err


def _read_commands(db: Path, state_items: list[str]) -> list[list[str]]:
    commands = [["summits"], ["summits", "--json"], ["items"], ["items", "--json"], ["log"],
                ["log", "--json"], ["brackets"], ["brackets", "--json"], ["check"]]
    for number in state_items:
        commands += [["show", number], ["show", number, "--json"], ["history", number],
                     ["history", number, "--json"], ["diff", number],
                     ["diff", number, "--format", "json"], ["merge", number]]
        commands += [["show", number, f"d{n}"] for n in range(1, 4)]
    subcommands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    if "export" in subcommands:
        for template in ("agenda", "negotiating-text", "redline"):
            for fmt in ("md", "html"):
                commands.append(["export", "--template", template, "--format", fmt])
    return [[*c, "--db", str(db)] for c in commands]


def test_joint_view_never_shows_internal_material(planted: Workspace,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    secrets = _internal_texts(planted, "IN") + _internal_texts(planted, "RU")
    assert len(secrets) > 40
    numbers = [i.number for i in planted.state(DEMO_SLUG).items]
    for argv in _read_commands(planted.path, numbers):
        out = _run(argv, capsys)
        leaked = [s for s in secrets if s in out] + (["SECRET-"] if "SECRET-" in out else [])
        assert not leaked, (argv, leaked[:2])


@pytest.mark.parametrize(("viewer", "other"), [("IN", "RU"), ("RU", "IN")])
def test_a_delegation_never_sees_the_others_internal_material(
        planted: Workspace, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, viewer: str, other: str) -> None:
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    theirs = _internal_texts(planted, other)
    numbers = [i.number for i in planted.state(DEMO_SLUG).items]
    seen_own = False
    commands = _read_commands(planted.path, numbers)
    commands += [["notes", n, "--json", "--db", str(planted.path)] for n in numbers]
    if any(c[0] == "export" for c in commands):
        commands.append(["export", "--template", "brief", "--db", str(planted.path)])
    for argv in commands:
        out = _run([*argv, "--as", viewer], capsys)
        assert f"SECRET-{other}" not in out, argv
        assert not [s for s in theirs if s in out], argv
        seen_own = seen_own or f"SECRET-{viewer}" in out
    assert seen_own, "the viewer's own internal material should be visible to it"
