"""`summit check`, backups and restore: tampering is found, snapshots are consistent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from agenda import integrity
from agenda.cli import main
from agenda.model import AgendaError
from agenda.workspace import Workspace


def _tamper(ws: Workspace, slug: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit a summit's stored records and events as a forger would: the journal's line
    checksums are made to match again, the records' ids are left as they were."""
    path = ws.summits_dir / f"{slug}.json"
    header, *lines = path.read_bytes().splitlines()
    batches = [json.loads(line[9:]) for line in lines]
    docs = {"records": [d for b in batches for d in b.get("a", {}).get("records", [])],
            "events": [d for b in batches for d in b.get("a", {}).get("events", [])]}
    data = {"revisions": [d["record"] for d in docs["records"]
                          if d["record"]["kind"] == "revision"],
            "acceptances": [d["record"] for d in docs["records"]
                            if d["record"]["kind"] == "acceptance"],
            "events": docs["events"]}
    edit(data)
    payload = json.dumps({"a": docs}, ensure_ascii=False).encode()
    path.write_bytes(header + b"\n" + b"%08x " % zlib.crc32(payload) + payload + b"\n")


def test_clean_workspace_checks_out(demo: Workspace) -> None:
    assert integrity.check(demo) == []


def test_altered_text_is_found(demo: Workspace) -> None:
    def edit(data: dict) -> None:
        rev = data["revisions"][0]
        rev["body"]["text"] = rev["body"]["text"].replace("Indo-Pacific", "Asia-Pacific")

    _tamper(demo, "india-russia-2021", edit)
    (problem,) = integrity.check(demo)
    assert (problem.item, problem.revision) == ("1.1", "v1")
    assert "hash does not match" in problem.message


def test_broken_links_are_found(demo: Workspace) -> None:
    def edit(data: dict) -> None:
        data["revisions"][1]["body"]["parents"] = ["00000000-dead"]
        data["acceptances"][0]["body"]["revision"] = "missing"
        data["events"][0]["item"] = "ghost"

    _tamper(demo, "india-russia-2021", edit)
    messages = [p.message for p in integrity.check(demo)]
    assert any("parent 00000000 does not exist" in m for m in messages)
    assert any("accepted a revision that does not exist" in m for m in messages)
    assert any("names an item that does not exist" in m for m in messages)


def test_check_command_exit_codes(demo: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--db", str(demo.path)])
    assert capsys.readouterr().out.startswith("ok:")
    _tamper(demo, "india-russia-2021",
            lambda d: d["revisions"][0]["body"].update(justification="forged"))
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--db", str(demo.path)])
    assert exit_.value.code == 1
    assert "1.1 v1: content hash does not match" in capsys.readouterr().out


def test_backup_and_restore_round_trip(demo: Workspace, tmp_path: Path) -> None:
    saved = integrity.backup(demo, tmp_path / "snap.backup")
    before = {p.name: p.read_bytes() for p in demo.files()}
    demo.table("india-russia-2021", "2.1", delegation="RU", text="After the backup.")
    aside = integrity.restore(demo, saved)
    assert {p.name: p.read_bytes() for p in demo.files()} == before
    kept = sorted(p.name for p in aside.iterdir())
    assert kept == ["summits-india-russia-2021.json", "workspace.json"]
    assert b"After the backup." in (aside / "summits-india-russia-2021.json").read_bytes()
    fresh = Workspace(demo.path)
    state = fresh.state("india-russia-2021")
    assert "After the backup." not in [r.text for r in state.history(state.item("2.1"))]
    assert integrity.check(fresh) == []


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, raw in members.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


MANIFEST = b'{"format": "summit-agenda-backup"}'
GOOD = b'{"_meta": {"1": {"app": "summit-agenda", "kind": "workspace", "schema": 1}}}'


@pytest.mark.parametrize("content", [
    b"not a zip",
    _zip({"summit-agenda-backup.json": b'{"format": "other"}', "workspace.json": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": GOOD,
          "../../etc/passwd": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": b"{trunc"}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": b'{"_meta": {"1": {}}}'}),
    _zip({"summit-agenda-backup.json": MANIFEST}),
])
def test_bad_backups_are_refused_before_anything_changes(demo: Workspace, tmp_path: Path,
                                                         content: bytes) -> None:
    bad = tmp_path / "bad.backup"
    bad.write_bytes(content)
    before = {p: p.read_bytes() for p in demo.files()}
    with pytest.raises(AgendaError):
        integrity.restore(demo, bad)
    assert {p: p.read_bytes() for p in demo.files()} == before


def test_restore_command_asks_unless_yes(demo: Workspace, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    saved = integrity.backup(demo, tmp_path / "snap.backup")
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    with pytest.raises(SystemExit) as exit_:
        main(["restore", str(saved), "--db", str(demo.path)])
    assert exit_.value.code == 2 and "--yes" in capsys.readouterr().err
    main(["restore", str(saved), "--yes", "--db", str(demo.path)])
    assert "replaced files are in" in capsys.readouterr().out


WRITER = textwrap.dedent("""
    import sys
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    for n in range(200):
        ws.table("india-russia-2021", "2.1", delegation="RU", text=f"busy {n}")
""")


def test_backup_while_another_process_writes_is_consistent(demo: Workspace,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path)])
    snapshots = []
    while proc.poll() is None and len(snapshots) < 20:
        snapshots.append(integrity.backup(demo, tmp_path / f"b{len(snapshots)}.backup"))
    proc.wait(timeout=120)
    assert proc.returncode == 0
    for n, snapshot in enumerate(snapshots):
        target = tmp_path / f"restored{n}" / "ws.json"
        ws = Workspace(target, create=True)
        integrity.restore(ws, snapshot)
        assert integrity.check(Workspace(target)) == []


def test_daily_backup_once_a_day_keeps_the_last_few(demo: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    folder = tmp_path / "backups"
    day = datetime(2021, 3, 1, tzinfo=UTC)
    for offset in range(10):
        monkeypatch.setattr(integrity, "now_utc", lambda o=offset: day + timedelta(days=o))
        assert len(integrity.automatic_backup(demo, folder, keep=3)) == 1
        assert integrity.automatic_backup(demo, folder, keep=3) == []  # same day: no second
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and kept[-1].endswith("2021-03-10.backup")


def test_a_migration_is_preceded_by_a_backup_of_the_old_files(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agenda import store

    old_files = {p.name: p.read_bytes() for p in demo.files()}
    monkeypatch.setattr(store, "SCHEMA_VERSION", store.SCHEMA_VERSION + 1)
    monkeypatch.setitem(store.MIGRATIONS, store.SCHEMA_VERSION - 1, lambda data: data)
    upgraded = Workspace(demo.path)
    assert upgraded.pending_migration() == store.SCHEMA_VERSION - 1
    written = integrity.automatic_backup(upgraded, tmp_path / "backups")
    old_schema = store.SCHEMA_VERSION - 1
    assert written[0].name.endswith(f"before-schema{old_schema}.backup")
    saved = integrity.read_backup(written[0])
    assert saved["workspace.json"] == old_files[demo.path.name]
    upgraded.table("india-russia-2021", "2.1", delegation="RU", text="After the upgrade.")
    assert upgraded.pending_migration() is None


def test_a_chairs_revisions_check_out(tmp_path: Path) -> None:
    from agenda.model import Delegation

    ws = Workspace(tmp_path / "ws.json", create=True)
    slug = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                            chair=Delegation("CH", "Chair"), sections=["One"]).slug
    ws.add_item(slug, section="One", title="T", delegation="CH", text="Chair's text.")
    assert integrity.check(ws) == []
