"""The command line: each command's output, JSON shape, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from agenda.cli import main


class Run:
    """Call `summit` in-process; returns (exit code, stdout, stderr)."""

    def __init__(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys

    def __call__(self, *argv: str, db: bool = True) -> tuple[int, str, str]:
        args = [*argv, "--db", str(self.db)] if db else list(argv)
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, err
        return out

    def json(self, *argv: str) -> object:
        return json.loads(self.ok(*argv, "--json"))


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    return Run(tmp_path / "ws.json", capsys)


@pytest.fixture
def summit(run: Run) -> Run:
    run.ok("new", "India–Russia 2021", "--delegation", "IN=India", "--delegation",
           "RU=Russia:Vladimir Putin", "--venue", "New Delhi", "--dates", "6 Dec 2021")
    assert run.ok("add", "--section", "Connectivity", "--title", "Maritime corridor", "--as",
                  "IN", "--text", "Operationalise the corridor by 2022.").strip() == "3.1"
    return run


def test_new_and_summits(summit: Run) -> None:
    assert summit.json("summits") == [{
        "slug": "india-russia-2021", "title": "India–Russia 2021", "venue": "New Delhi",
        "dates": "6 Dec 2021", "uuid": summit.json("summits")[0]["uuid"],  # type: ignore[index]
        "created": summit.json("summits")[0]["created"]}]  # type: ignore[index]
    assert "india-russia-2021" in summit.ok("summits")


def test_items_json_shape(summit: Run) -> None:
    (item,) = summit.json("items")  # type: ignore[misc]
    assert {k: item[k] for k in ("number", "title", "section", "status", "brackets")} == {
        "number": "3.1", "title": "Maritime corridor", "section": "Connectivity",
        "status": "proposed", "brackets": 0}


def test_table_history_show_and_accept(summit: Run) -> None:
    out = summit.ok("table", "3.1", "--as", "RU", "--text",
                    "Work towards the corridor, subject to a study.", "--why", "Too early")
    assert out.strip() == "v2 tabled (MOD)"
    summit.ok("table", "3.1", "--as", "IN", "--internal", "--text", "INTERNAL fallback")
    history = summit.json("history", "3.1")
    assert [(r["number"], r["delegation"], r["code"], r["visibility"]) for r in history] == [
        ("v1", "IN", "ADD", "tabled"), ("v2", "RU", "MOD", "tabled")]
    assert {"number", "delegation", "code", "visibility", "text", "created", "uuid"} <= set(
        history[0])
    mine = summit.json("history", "3.1", "--as", "IN")
    assert [r["number"] for r in mine] == ["v1", "v2", "d1"]
    assert "INTERNAL" not in summit.ok("show", "3.1")
    assert "INTERNAL fallback" in summit.ok("show", "3.1", "--as", "IN")
    assert "Too early" in summit.ok("show", "3.1", "v2")
    out = summit.ok("accept", "3.1", "--as", "IN")
    assert "agreed-ad-ref" in out
    assert summit.ok("status", "3.1", "Final", "--as", "IN").strip() == "3.1 agreed-ad-ref"
    assert summit.ok("status", "3.1", "Final", "--as", "RU").strip() == "3.1 final"


def test_text_from_file_and_stdin(summit: Run, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "ru.md"
    source.write_text("Russian text\r\nwith CRLF", encoding="utf-8")
    summit.ok("table", "3.1", "--as", "RU", "--file", str(source))
    assert summit.json("show", "3.1")["revision"]["text"] == "Russian text\r\nwith CRLF"  # type: ignore[index]
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Из stdin".encode())))
    summit.ok("table", "3.1", "--as", "IN")
    assert summit.json("show", "3.1")["revision"]["text"] == "Из stdin"  # type: ignore[index]


def test_binary_file_is_refused_cleanly(summit: Run, tmp_path: Path) -> None:
    blob = tmp_path / "image.png"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    before = summit.ok("history", "3.1", "--json")
    code, out, err = summit("table", "3.1", "--as", "RU", "--file", str(blob))
    assert code == 1 and "not UTF-8 text" in err and err.count("\n") == 1
    assert summit.ok("history", "3.1", "--json") == before


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["table", "9.9", "--as", "RU", "--text", "x"], 1, 'No item 9.9 in summit "India–Russia'),
    (["table", "3.1", "--as", "CN", "--text", "x"], 1, "No delegation 'CN'"),
    (["table", "3.1", "--text", "x"], 2, "needs --as CODE"),
    (["table", "3.1", "--as", "RU", "--code", "XYZ", "--text", "x"], 2, "invalid choice"),
    (["status", "3.1", "final"], 1, "cannot go from proposed to final"),
    (["status", "3.1", "done"], 2, "Unknown status 'done': use one of proposed"),
    (["accept", "3.1", "--as", "IN"], 1, "no text tabled by another delegation"),
    (["accept", "3.1", "v1", "--as", "IN"], 1, "own text"),
    (["accept", "3.1", "v7", "--as", "RU"], 1, "No revision v7"),
    (["show", "3.1", "--summit", "nope"], 1, "No summit 'nope'"),
    (["add", "--section", "Space", "--title", "t", "--as", "IN", "--text", "x"], 1,
     "No section 'Space'"),
    (["add", "--section", "1", "--title", "   ", "--as", "IN", "--text", "x"], 1,
     "title is empty"),
    (["new", "Solo", "--delegation", "IN"], 2, "is not CODE=Name"),
])
def test_errors_are_one_line_with_exit_code(summit: Run, argv: list[str], code: int,
                                            message: str) -> None:
    before = summit.ok("history", "3.1", "--json", "--as", "IN")
    got, out, err = summit(*argv)
    assert got == code, err
    assert message in err
    if code == 1:
        assert err.startswith("summit: ") and err.count("\n") == 1
    assert summit.ok("history", "3.1", "--json", "--as", "IN") == before


def test_db_before_or_after_and_environment(summit: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(summit.db)
    assert summit("--db", db, "items", db=False)[0] == 0
    assert summit("items", "--db", db, db=False)[0] == 0
    monkeypatch.setenv("SUMMIT_AGENDA_DB", db)
    code, out, _ = summit("items", db=False)
    assert code == 0 and "Maritime corridor" in out


def test_missing_workspace_is_not_created_by_a_read(tmp_path: Path, run: Run) -> None:
    code, _, err = run("items", "--db", str(tmp_path / "none.json"), db=False)
    assert code == 1 and "No workspace at" in err and "summit demo" in err
    assert not (tmp_path / "none.json").exists()


def test_several_summits_need_summit_option(summit: Run) -> None:
    summit.ok("new", "Second", "--delegation", "IN=India", "--delegation", "JP=Japan")
    code, _, err = summit("items")
    assert code == 1 and "pick one with --summit (india-russia-2021, second)" in err
    assert "Maritime" in summit.ok("items", "--summit", "india-russia-2021")


def test_notes_move_retitle_section_log(summit: Run) -> None:
    summit.ok("note", "3.1", "--as", "IN", "Keep the date")
    assert "Keep the date" in summit.ok("notes", "3.1", "--as", "IN")
    assert "Keep the date" not in summit.ok("notes", "3.1", "--as", "RU")
    summit.ok("add", "--section", "1", "--title", "Indo-Pacific", "--as", "IN", "--text", "t")
    assert summit.ok("move", "1.1", "--down").strip() == "2.1"
    assert summit.ok("move", "2.1", "--section", "Connectivity", "--position", "2").strip() \
        == "3.2"
    assert summit.ok("retitle", "3.2", "Regional architecture").strip() == \
        "3.2 Regional architecture"
    assert "8. Space" in summit.ok("section", "Space")
    log = summit.json("log")
    assert [e["action"] for e in log][-4:] == ["item.move", "item.move", "item.retitle",
                                               "section.add"]
    assert all("note" not in e["action"] for e in log)  # the joint log hides private notes


def test_diff_formats(summit: Run) -> None:
    summit.ok("table", "3.1", "--as", "RU", "--text", "Operationalise the corridor by 2025.")
    ops = json.loads(summit.ok("diff", "3.1", "--format", "json"))
    assert ops == [{"op": "equal", "text": "Operationalise the corridor by "},
                   {"op": "delete", "text": "2022"}, {"op": "insert", "text": "2025"},
                   {"op": "equal", "text": "."}]
    word = summit.ok("diff", "3.1", "--color", "never")
    assert "{-2022-}{+2025+}" in word and "[" not in word.split("\n", 1)[1]
    assert "\x1b[" in summit.ok("diff", "3.1", "--color", "always")
    assert "\x1b" not in summit.ok("diff", "3.1")  # not a terminal: no colour
    assert "{~~2022~>2025~~}" in summit.ok("diff", "3.1", "--format", "critic")
    assert "<del>2022</del>" in summit.ok("diff", "3.1", "v1", "v2", "--format", "html")
    assert "-Operationalise the corridor by 2022." in summit.ok("diff", "3.1", "IN", "RU",
                                                               "--format", "unified")
    assert "│" in summit.ok("diff", "3.1", "--format", "side")


def test_merge_and_brackets(summit: Run) -> None:
    summit.ok("table", "3.1", "--as", "RU", "--text", "Operationalise the corridor by 2025.")
    summit.ok("table", "3.1", "--as", "IN", "--text", "Operationalise the corridor by 2023.")
    assert summit.ok("merge", "3.1").strip() == \
        "Operationalise the corridor by [IN: 2023][RU: 2025]."
    assert summit.ok("merge", "3.1", "--table", "--as", "IN").startswith("v4 tabled (CMP)")
    assert summit.json("brackets") == {"items": [{"number": "3.1", "title": "Maritime corridor",
                                                  "brackets": 2, "problems": []}], "total": 2}
    assert summit.ok("brackets").splitlines()[-1].split() == ["total", "2"]


def test_escape_sequences_in_user_text_are_never_printed_raw(summit: Run) -> None:
    hostile = "Clear \x1b[2J screen and \x1b]52;c;ZXZpbA==\x07 clipboard \x9b31m"
    summit.ok("table", "3.1", "--as", "RU", "--text", hostile)
    for argv in (["show", "3.1"], ["history", "3.1"], ["diff", "3.1"],
                 ["diff", "3.1", "--color", "always"], ["diff", "3.1", "--format", "side"],
                 ["merge", "3.1"], ["show", "3.1", "--json"], ["log"]):
        out = summit.ok(*argv)
        assert "\x1b]" not in out and "\x1b[2J" not in out and "\x9b" not in out, argv
    assert json.loads(summit.ok("show", "3.1", "--json"))["revision"]["text"] == hostile


def test_demo_builds_and_reset_refuses_foreign_workspaces(tmp_path: Path, run: Run) -> None:
    demo = tmp_path / "demo.json"
    assert run("demo", "--no-open", "--db", str(demo), db=False)[1].strip() == str(demo)
    code, out, _ = run("items", "--db", str(demo), db=False)
    assert "Sputnik V" in out
    assert run("demo", "--no-open", "--reset", "--db", str(demo), db=False)[0] == 0
    run("new", "Mine", "--delegation", "IN=India", "--delegation", "RU=Russia", "--db",
        str(demo), db=False)
    code, _, err = run("demo", "--no-open", "--reset", "--db", str(demo), db=False)
    assert code == 1 and "also holds mine" in err


def test_python_m_agenda_and_no_textual_on_scripted_paths(summit: Run) -> None:
    probe = (
        "import sys, agenda.cli\n"
        "try:\n"
        f"    agenda.cli.main(['items', '--db', {str(summit.db)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "import importlib, pkgutil, agenda\n"
        "for m in pkgutil.iter_modules(agenda.__path__):\n"
        "    if m.name != '__main__':\n"
        "        importlib.import_module('agenda.' + m.name)\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "agenda", "items", "--db", str(summit.db)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Maritime corridor" in result.stdout


def test_help_lists_every_command(run: Run) -> None:
    code, out, _ = run("--help", db=False)
    assert code == 0
    for name in ("new", "items", "add", "table", "accept", "status", "note", "show",
                 "history", "diff", "merge", "brackets", "demo"):
        assert f"    {name}" in out


def test_new_from_a_starter_template(run: Run) -> None:
    assert run.ok("new", "India–Russia 2022", "--template", "bilateral-annual-summit",
                  "--delegation", "IN=India", "--delegation", "RU=Russia", "--as", "RU").strip() \
        == "india-russia-2022"
    items = run.json("items")
    assert len(items) > 3 and {i["owner"] for i in items} == {"RU"}  # type: ignore[union-attr]
    code, _, err = run("new", "Other", "--template", "nope", "--delegation", "IN=India",
                       "--delegation", "RU=Russia")
    assert code == 1 and "No starter agenda 'nope'" in err
    assert [s["slug"] for s in run.json("summits")] == ["india-russia-2022"]  # type: ignore[union-attr]


def test_merge_tabled_by_the_chair(run: Run) -> None:
    run.ok("new", "Trilateral", "--delegation", "IN=India", "--delegation", "RU=Russia",
           "--chair", "CH=Chair of the JWG", "--section", "One")
    run.ok("add", "--section", "One", "--title", "Region", "--as", "IN", "--text",
           "Support the Indo-Pacific region.")
    run.ok("table", "1.1", "--as", "RU", "--text", "Support the Asia-Pacific region.")
    assert run.ok("merge", "1.1", "--table", "--as", "CH").startswith("v3 tabled (CMP)")
    assert run.json("history", "1.1")[-1]["delegation"] == "CH"  # type: ignore[index]
    code, _, err = run("accept", "1.1", "--as", "CH")
    assert code == 1 and "accepts no text" in err


def test_version(run: Run) -> None:
    code, out, _ = run("--version", db=False)
    assert code == 0 and out.startswith("summit ")


# Faults: one line naming the file, nothing changed, exit 1 -------------------------------

import errno  # noqa: E402
import os  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".backups" not in str(p) and not p.name.endswith(".lock")}


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.write

    def write(fd: int, data: bytes) -> int:
        if fd > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("argv", [
    ("table", "3.1", "--as", "RU", "--text", "Full disk."),
    ("add", "--section", "Health", "--title", "T", "--as", "IN", "--text", "Text."),
    ("note", "3.1", "--as", "IN", "A note."),
    ("accept", "3.1", "--as", "RU"),
    ("retitle", "3.1", "New title"),
    ("status", "3.1", "deferred", "--as", "RU"),
    ("section", "New section"),
    ("new", "Another summit", "--delegation", "IN=India", "--delegation", "FR=France"),
])
def test_a_full_disk_gives_one_line_and_changes_nothing(
        summit: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        argv: tuple[str, ...]) -> None:
    summit.ok("items")  # today's backup is taken: the fault is in the command itself
    before = _files(tmp_path)
    _disk_full(monkeypatch)
    code, out, err = summit(*argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert "nothing was changed" in err and str(tmp_path) in err
    monkeypatch.undo()
    assert _files(tmp_path) == before  # no temp file left either


def test_a_backup_onto_a_full_disk_names_the_backup(summit: Run, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    summit.ok("items")
    before = _files(tmp_path)
    _disk_full(monkeypatch)
    code, _, err = summit("backup", "-o", str(tmp_path / "out" / "snap.backup"))
    monkeypatch.undo()
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err
    assert str(tmp_path / "out" / "snap.backup") in err
    assert _files(tmp_path) == before


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Every write under folder fails as on read-only media (chmod does not stop root)."""
    real_open, real_mkdir, real_access = os.open, os.mkdir, os.access
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def refuse(path: object) -> None:
        if str(path).startswith(str(folder)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    def open_(path: object, flags: int, *args: object, **kw: object) -> int:
        if flags & writing:
            refuse(path)
        return real_open(path, flags, *args, **kw)  # type: ignore[arg-type]

    def mkdir(path: object, *args: object, **kw: object) -> None:
        refuse(path)
        real_mkdir(path, *args, **kw)  # type: ignore[arg-type]

    def access(path: object, mode: int, *args: object, **kw: object) -> bool:
        if mode & os.W_OK and str(path).startswith(str(folder)):
            return False
        return real_access(path, mode, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "access", access)


def test_a_workspace_on_read_only_media_can_be_read(summit: Run, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    summit.ok("table", "3.1", "--as", "RU", "--text", "Russia's text.")
    (tmp_path / "ws.json.lock").unlink()  # as copied onto a DVD: no lock file at all
    before = _files(tmp_path)
    _read_only(monkeypatch, tmp_path)
    assert "Maritime corridor" in summit.ok("items")
    assert "Russia's text." in summit.ok("show", "3.1")
    assert "v2" in summit.ok("history", "3.1")
    assert summit.ok("check").startswith("ok")
    assert "Maritime corridor" in summit.ok("export")
    code, out, err = summit("table", "3.1", "--as", "IN", "--text", "Mine.")
    assert code == 1 and err.count("\n") == 1 and "Read-only file system" in err, err
    assert "nothing was changed" in err
    monkeypatch.undo()
    assert _files(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_a_read_only_folder_and_lock_file_can_be_read(summit: Run, tmp_path: Path) -> None:
    summit.ok("items")
    (tmp_path / "ws.json.lock").chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        assert "Maritime corridor" in summit.ok("items")
        code, _, err = summit("table", "3.1", "--as", "RU", "--text", "No.")
        assert code == 1 and err.count("\n") == 1 and "nothing was changed" in err
    finally:
        tmp_path.chmod(0o755)


def test_an_unreadable_summit_file_gives_one_line(summit: Run, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    summit.ok("items")
    summit_file = tmp_path / "ws.summits" / "india-russia-2021.json"
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == summit_file:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    for argv in (("items",), ("check",), ("show", "3.1"), ("export",)):
        code, out, err = summit(*argv)
        assert code == 1 and err.count("\n") == 1, err
        assert str(summit_file) in err and "Permission denied" in err


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "1.1", "v1"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
        st.sampled_from(["uuid", "item", "text", "1"]), inner, max_size=2),
    max_leaves=4)

COMMANDS = [("items",), ("show", "1.1"), ("history", "1.1", "--as", "IN"), ("brackets",),
            ("check",), ("log",), ("summits",), ("diff", "1.1"), ("export",),
            ("table", "1.1", "--as", "RU", "--text", "A text.")]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from agenda.demo import build_demo
    from agenda.workspace import Workspace

    folder = tmp_path_factory.mktemp("demo")
    build_demo(Workspace(folder / "ws.json", create=True))
    return _files(folder)


def _mutate(data: object, draw: st.DrawFn) -> object:
    """Replace one value somewhere in data (or drop one key) by something of another shape."""
    if isinstance(data, dict) and data and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(data)))
        if draw(st.integers(0, 5)) == 0:
            return {k: v for k, v in data.items() if k != key}
        return {**data, key: _mutate(data[key], draw)}
    if isinstance(data, list) and data and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], _mutate(data[index], draw), *data[index + 1:]]
    return draw(JSON_VALUES)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(["index", "summit"]))
def test_files_of_the_wrong_shape_give_one_line_in_every_command(
        demo_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str], data: st.DataObject, which: str) -> None:
    folder = tmp_path_factory.mktemp("wrong")
    for name, raw in demo_files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(raw)
    if which == "index":
        target = folder / "ws.json"
        target.write_text(json.dumps(_mutate(json.loads(target.read_bytes()), data.draw)))
    else:
        # A summit journal: one line of it gets the wrong shape, with a checksum that matches
        # (so it is not simply a torn or damaged line).
        target = folder / "ws.summits/india-russia-2021.json"
        lines = target.read_bytes().splitlines()
        index = data.draw(st.integers(0, len(lines) - 1))
        if index == 0:
            lines[0] = json.dumps(_mutate(json.loads(lines[0]), data.draw)).encode()
        else:
            payload = json.dumps(_mutate(json.loads(lines[index][9:]), data.draw)).encode()
            lines[index] = b"%08x " % zlib.crc32(payload) + payload
        target.write_bytes(b"\n".join(lines) + b"\n")
    run = Run(folder / "ws.json", capsys)
    for argv in COMMANDS:
        before = _files(folder)
        code, _, err = run(*argv)
        assert code in (0, 1), (argv, err)
        assert err.count("\n") <= 1 and "Traceback" not in err, (argv, err)
        if code == 1:
            assert _files(folder) == before, argv


def test_a_text_may_begin_with_a_dash(summit: Run) -> None:
    # argparse reads "-x" after --text as an option ("expected one argument"); a text that
    # names no option is the text, and one that names an option is still refused.
    summit.ok("table", "3.1", "--as", "IN", "--text", "- 5 % tariffs", "--why", "-because")
    shown = summit.ok("show", "3.1", "--as", "IN")
    assert "- 5 % tariffs" in shown and "-because" in shown
    summit.ok("table", "3.1", "--as", "IN", "--text", "-x")
    assert summit.ok("show", "3.1", "--as", "IN").rstrip().endswith("-x")
    code, _, err = summit("table", "3.1", "--as", "IN", "--text", "--as", "RU")
    assert code == 2 and "expected one argument" in err
    assert summit.ok("show", "3.1", "--as", "IN").rstrip().endswith("-x")  # nothing tabled
    # A positional text goes after `--`; without it the error says so, in one line.
    code, _, err = summit("note", "3.1", "--as", "IN", "-y")
    assert code == 2 and "after '--'" in err and "Traceback" not in err
    db = str(summit.db)
    code, out, err = summit("--db", db, "note", "3.1", "--as", "IN", "--", "-y", db=False)
    assert code == 0, err
    assert "-y" in summit.ok("notes", "3.1", "--as", "IN")


@given(st.lists(st.text(alphabet=st.sampled_from(["a", " ", "\r", "\n", "\x1b", "\x85", "é"]))))
def test_say_lines_prints_what_say_prints_line_by_line(lines: list[str]) -> None:
    """`summit items` prints its 20,000 lines in one write: the same bytes as `say` of each
    (control characters made visible per line, a CR that ends a line included)."""
    import io

    from agenda import cli

    real = sys.stdout
    try:
        sys.stdout = one = io.StringIO()
        cli.say_lines(lines)
        sys.stdout = each = io.StringIO()
        for line in lines:
            cli.say(line)
    finally:
        sys.stdout = real
    assert one.getvalue() == each.getvalue()
