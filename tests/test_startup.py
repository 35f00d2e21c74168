"""Start-up: each scripted command imports only the heavy modules its own work needs.

Not a timing (bench/bench_startup.py measures those): a pin on what gets imported, checked
in a fresh interpreter per command, since one test process has long imported everything.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenda.cli import main
from agenda.demo import build_demo
from agenda.paths import backups_dir
from agenda.workspace import Workspace

HEAVY = {"rapidfuzz", "jinja2", "markdown_it", "platformdirs", "zipfile", "textual",
         "importlib.metadata", "shutil", "agenda.backup", "agenda.integrity", "agenda.export",
         "agenda.importer", "tui", "agenda.merge", "agenda.diff",
         # OpenSSL (agenda.digest hashes a small workspace without it), threading (the core
         # takes its locks from _thread), subprocess, and the document commands' parsers.
         "hashlib", "_hashlib", "hmac", "threading", "subprocess", "agenda.cli_documents"}
ZIP = {"zipfile", "shutil"}  # zipfile imports shutil; argparse would too, for the help width

# As the `summit` script starts: through agenda.__main__.run.
PROBE = """
import gc, json, sys
from agenda.__main__ import run
report, sys.argv = sys.argv[1], ["summit", *sys.argv[2:]]
try:
    run()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules), "gc": gc.isenabled(),
               "frozen": gc.get_freeze_count()}, out)
"""


def imported(tmp_path: Path, *argv: str) -> set[str]:
    """The heavy modules `summit argv` imported, run in a fresh interpreter."""
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), *argv], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    result = json.loads(report.read_text())
    assert result["code"] in (0, None), (argv, result["code"])
    return {name for name in HEAVY
            if any(m == name or m.startswith(name + ".") for m in result["modules"])}


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    build_demo(Workspace(path, create=True))
    main(["items", "--db", str(path)])  # today's backup: later commands have none due
    return path


@pytest.mark.parametrize(("argv", "allowed"), [
    (("items",), set()),
    (("items", "--json"), set()),
    (("show", "1.1"), set()),
    (("history", "1.1", "--as", "IN"), set()),
    (("table", "2.1", "--as", "RU", "--text", "A new text."), set()),
    (("accept", "4.1", "--as", "RU"), set()),
    (("summits",), set()),
    (("log", "--limit", "3"), set()),
    (("notes", "1.1", "--as", "IN"), set()),
    (("brackets",), set()),
    (("retitle", "1.2", "A title"), set()),
    (("check",), {"agenda.integrity"}),
    (("diff", "1.1"), {"rapidfuzz", "agenda.diff"}),
    # The user's own templates folder is platformdirs' to name.
    (("export",), {"jinja2", "markdown_it", "agenda.export", "rapidfuzz", "platformdirs",
                   "shutil", "agenda.merge", "agenda.diff", "agenda.cli_documents",
                   "hashlib", "_hashlib", "threading"}),  # the last three: jinja2's
    (("backup", "-o", "x.backup"), {"agenda.backup"}),
])
def test_each_command_imports_only_what_it_uses(demo_db: Path, tmp_path: Path,
                                                argv: tuple[str, ...], allowed: set[str]
                                                ) -> None:
    if argv[0] == "backup":
        argv = ("backup", "-o", str(tmp_path / "x.backup"))
    assert imported(tmp_path, *argv, "--db", str(demo_db)) <= allowed


def test_the_script_collects_again_once_the_core_is_imported(demo_db: Path,
                                                             tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), "items", "--db", str(demo_db)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    result = json.loads(report.read_text())
    assert result["gc"] is True  # collection is back on for the command's own work
    assert result["frozen"] > 10_000  # the imported core is out of every collection


def test_the_version_is_looked_up_only_for_version(tmp_path: Path) -> None:
    # The list of commands names the document commands (and importlib.metadata threading).
    assert imported(tmp_path, "--version") <= {"importlib.metadata", "threading",
                                               "agenda.cli_documents"} | ZIP


def test_no_language_set_means_no_catalogue_search(demo_db: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), "items", "--db", str(demo_db)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    assert "locale" not in json.loads(report.read_text())["modules"]  # gettext's search uses it


def test_help_builds_no_command_and_imports_nothing_heavy(tmp_path: Path) -> None:
    assert imported(tmp_path, "--help") == {"agenda.cli_documents"}  # listed, not built


def test_the_default_workspace_asks_platformdirs_only_without_db(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMIT_AGENDA_DB", str(demo_db))
    assert imported(tmp_path, "items") == set()
    monkeypatch.delenv("SUMMIT_AGENDA_DB")
    # No workspace in the (temporary) user data folder: the command refuses, after asking.
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), "items"],
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    assert "platformdirs" in json.loads(report.read_text())["modules"]


def test_the_first_command_of_the_day_takes_the_backup_after_its_work(demo_db: Path,
                                                                      tmp_path: Path) -> None:
    folder = backups_dir(demo_db)
    for old in folder.iterdir():
        old.unlink()
    # Backups are written without zipfile (and its shutil, bz2 and lzma).
    assert imported(tmp_path, "items", "--db", str(demo_db)) == {"agenda.backup"}
    assert len(list(folder.glob("*.backup"))) == 1
    assert imported(tmp_path, "items", "--db", str(demo_db)) == set()


def test_the_first_command_of_the_day_hands_a_large_backup_to_a_worker(tmp_path: Path
                                                                       ) -> None:
    import fcntl
    import os

    from agenda.backup import DETACH_ABOVE
    from agenda.model import Delegation
    from agenda.workspace import NewItem

    ws = Workspace(tmp_path / "big.json", create=True)
    ws.create_summit("Big", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="big", sections=["One"])
    ws.add_items("big", [NewItem("One", f"Item {n}", f"word{n} " * 700) for n in range(250)],
                 delegation="IN")
    assert ws.path.stat().st_size + ws.summit_path("big").stat().st_size > DETACH_ABOVE
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), "items", "--db", str(ws.path)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    modules = set(json.loads(report.read_text())["modules"])
    # The command spawns the worker without subprocess (and its threading, selectors...).
    assert "agenda.backup" in modules and "subprocess" not in modules
    assert "agenda.backup_worker" not in modules
    fd = os.open(backups_dir(ws.path) / ".lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the worker holds it until it is done
    os.close(fd)
    assert len(list(backups_dir(ws.path).glob("*.backup"))) == 1


def _all_commands() -> list[str]:
    from agenda.cli import build_parser

    parser = build_parser(True)
    (sub,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" and a.choices]
    return sorted(sub.choices)


WORDS = ["--db", "ws.json", "--summit", "s", "--as", "IN", "--json", "1.1", "v2", "--text",
         "t", "--", "-x", "--db=w.json", "--help"]


@given(before=st.lists(st.sampled_from(WORDS), max_size=3),
       command=st.sampled_from(_all_commands() + ["itemz"]),
       after=st.lists(st.sampled_from(WORDS), max_size=4))
def test_the_lazy_parser_reads_argv_as_the_whole_parser_does(
        before: list[str], command: str, after: list[str]) -> None:
    from agenda.cli import build_parser, chosen_command

    argv = [*before, command, *after]

    def parse(parser: object) -> object:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                args, extras = parser.parse_known_args(argv)  # type: ignore[attr-defined]
            except SystemExit as exc:
                return ("exit", exc.code, out.getvalue(), err.getvalue())
        return (vars(args), extras)

    assert parse(build_parser(chosen_command(argv))) == parse(build_parser(True))
