"""A workspace written by 0.1.0 opens in this version and shows exactly what 0.1.0 showed.

`tests/fixtures/v010/workspace` was written by 0.1.0 (the demo, and a summit with a chair,
internal drafts, notes, a retitle, a new section, a move and a deferral); `exports/` holds
what 0.1.0's commands printed for it. Every one is reproduced byte for byte, before the
migration is written (read in memory) and after (the summit files are journals of records).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agenda import backup, integrity
from agenda.cli import main
from agenda.workspace import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "v010"
# Fields the history JSON gained with records; 0.1.0 printed every other one as it is now.
NEW_FIELDS = ("id", "short", "was", "after_final")


def _command(name: str, slug: str) -> list[str]:
    stem = name.rsplit(".", 1)[0]
    if name == "items.json":
        return ["items", "--json"]
    if name.startswith("items-"):
        return ["items", "--json", "--as", stem.split("-")[1]]
    if name == "brackets.json":
        return ["brackets", "--json"]
    if name.startswith("brief-"):
        return ["export", "--template", "brief", "--as", stem.split("-")[1]]
    if name == "negotiating-text.html":
        return ["export", "--template", "negotiating-text", "--format", "html"]
    if name.endswith(".md"):
        return ["export", "--template", stem]
    if name.startswith("history-"):
        parts = stem.split("-")[1:]
        return ["history", parts[0], "--json", *(["--as", parts[1]] if len(parts) > 1 else [])]
    if name.startswith("log"):
        viewer = stem.split("-")[1:]
        return ["log", *(["--as", viewer[0]] if viewer else [])]
    raise AssertionError(f"no command for {name}")


def _expected() -> list[tuple[str, str]]:
    return sorted((slug.name, name.name) for slug in (FIXTURE / "exports").iterdir()
                  for name in slug.iterdir())


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "workspace", tmp_path / "ws")
    return tmp_path / "ws" / "workspace.json"


def _reproduces(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for slug, name in _expected():
        main(["--db", str(path), "--summit", slug, *_command(name, slug)])
        out = capsys.readouterr().out
        expected = (FIXTURE / "exports" / slug / name).read_text(encoding="utf-8")
        if name.startswith("history-"):
            got = json.loads(out)
            for revision in got:
                for field in NEW_FIELDS:
                    revision.pop(field)
            assert got == json.loads(expected), f"{slug}/{name}"
        else:
            assert out == expected, f"{slug}/{name} differs from what 0.1.0 printed"


def test_a_010_workspace_reads_as_010_showed_it(legacy: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def workspace_files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in [legacy, *legacy.with_suffix(".summits").iterdir()]}

    before = workspace_files()
    _reproduces(legacy, capsys)
    # Reading converts in memory only: the files stay as 0.1.0 wrote them until a write.
    assert workspace_files() == before
    assert Workspace(legacy).pending_migration() == 1


def test_the_migration_is_written_once_and_reproduces_every_export(
        legacy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(legacy)
    backup.automatic_backup(ws, legacy.parent / "backups")  # a migration needs its backup
    with ws.transaction():
        pass  # the first write transaction converts every summit file
    assert ws.pending_migration() is None
    for summit in (legacy.parent / "workspace.summits").iterdir():
        assert summit.read_bytes().startswith(b'{"app":"summit-agenda","kind":"summit"')
    _reproduces(legacy, capsys)
    assert integrity.check(Workspace(legacy)) == []


def test_the_conversion_is_deterministic(tmp_path: Path) -> None:
    """Every delegation converting its copy of a shared 0.1 workspace gets the same records."""
    stored = []
    for copy in ("a", "b"):
        shutil.copytree(FIXTURE / "workspace", tmp_path / copy)
        ws = Workspace(tmp_path / copy / "workspace.json")
        backup.automatic_backup(ws, tmp_path / copy / "backups")
        with ws.transaction():
            pass
        stored.append([ws.stored(slug)[0] for slug in ("india-russia-2021", "second")])
    assert stored[0] == stored[1]


def test_check_verifies_010_hashes_with_the_010_formula(legacy: Path) -> None:
    summit_file = legacy.parent / "workspace.summits" / "second.json"
    data = json.loads(summit_file.read_text())
    first = next(iter(data["revisions"].values()))
    first["text"] = first["text"].replace("30", "35")
    summit_file.write_text(json.dumps(data))
    problems = integrity.check(Workspace(legacy))
    assert [(p.item, p.revision) for p in problems] == [("1.1", "v1")]
    assert "content hash does not match" in problems[0].message


def test_new_records_after_the_migration_continue_the_history(
        legacy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(legacy)
    backup.automatic_backup(ws, legacy.parent / "backups")
    revision = ws.table("second", "1.1", delegation="RU", text="A text after the upgrade.")
    state = ws.state("second", "IN")
    labels = [r.label for r in state.history(state.item("1.1"))]
    assert labels == ["v1", "v2", "d1", "v3", "v4"] and revision.label == "v4"
    assert integrity.check(ws) == []
    main(["--db", str(legacy), "--summit", "second", "show", "1.1", revision.short])
    assert "A text after the upgrade." in capsys.readouterr().out
