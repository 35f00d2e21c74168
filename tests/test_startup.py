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
         # The exchange: its keys' cryptography, packets' pyrage, git's and split's modules.
         "cryptography", "pyrage", "agenda.exchange", "agenda.split",
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


def _quietly(argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)


class Places(dict[str, str]):
    """What a command's argv names ({db}, {pair_in}...), each made when first named, in
    tmp_path, with today's backup taken: no command below has a daily backup due."""

    def __init__(self, tmp_path: Path, demo_db: Path) -> None:
        super().__init__(tmp=str(tmp_path), db=str(demo_db))
        self.tmp = tmp_path

    def __missing__(self, name: str) -> str:
        self[name] = value = str(getattr(self, f"_{name}")())
        return value

    def _backed_up(self, path: Path) -> Path:
        _quietly(["summits", "--db", str(path)])
        return path

    def _tabled(self) -> str:
        """The demo, with a text RU tabled a moment ago: something for `undo` to take back."""
        _quietly(["table", "2.1", "--as", "RU", "--text", "A newer text.", "--db", self["db"]])
        return self["db"]

    def _backup(self) -> Path:
        from agenda.backup import backup

        ws = Workspace(Path(self["db"]))
        try:
            return backup(ws, self.tmp / "demo.backup")
        finally:
            ws.close()

    def _markdown(self) -> Path:
        path = self.tmp / "agenda.md"
        path.write_text("# Imported summit\n\n## Trade\n\n- Ports: The Sides [will] build "
                        "ports.\n- Rail: The Sides study a rail link.\n", encoding="utf-8")
        return path

    def _empty(self) -> Path:
        """A new workspace with no summit, as `keys init` binds one."""
        Workspace(self.tmp / "empty.json", create=True).close()
        return self._backed_up(self.tmp / "empty.json")

    def _pair_in(self) -> Path:
        """`summit demo --pair`: India's and Russia's bound workspaces, each trusting the
        other, with a joint remote (a bare git repository in tmp_path) they have synced;
        then India tables a text, for its sync and its packets to carry."""
        from agenda.exchange.pair import build_pair

        paths = build_pair(self.tmp / "pair")
        for code in ("IN", "RU"):
            self._backed_up(paths[code])
        _quietly(["table", "2.1", "--text", "India's newer text.", "--db", str(paths["IN"])])
        return paths["IN"]

    def _pair_ru(self) -> Path:
        return Path(self["pair_in"]).with_name("RU.json")

    def _joint(self) -> Path:
        return Path(self["pair_in"]).with_name("joint.git")

    def _packet(self) -> Path:
        """A packet India wrote for Russia (with the text Russia has not seen)."""
        from agenda.exchange import packets

        path = self.tmp / "in-to-ru.summit"
        india = Workspace(Path(self["pair_in"]))
        try:
            packets.send(india, "RU", path)
        finally:
            india.close()
        return path

    def _split_in(self) -> Path:
        """India's workspace split (without keys) from the shared demo: it has a baseline."""
        _quietly(["split", "--out", str(self.tmp / "split"), "--db", self["db"]])
        return self._backed_up(self.tmp / "split" / "IN.json")


# Every command of the CLI, each doing its real work; the {names} are Places'. `--db {db}`
# (the demo workspace) is added where the argv names no workspace.
COMMANDS: list[tuple[tuple[str, ...], set[str]]] = [
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
    (("new", "Another summit", "--delegation", "IN=India", "--delegation", "RU=Russia"),
     set()),
    (("add", "--as", "IN", "--section", "1", "--title", "Ports", "--text", "Ports."), set()),
    (("status", "5.2", "deferred", "--as", "IN"), set()),
    (("undo", "--as", "RU", "--db", "{tabled}"), set()),
    (("note", "1.1", "--as", "IN", "A note."), set()),
    (("move", "1.2", "--up"), set()),
    (("section", "Culture"), set()),
    (("check",), {"agenda.integrity"}),
    (("diff", "1.1"), {"rapidfuzz", "agenda.diff"}),
    # A compilation is a merge of the positions, on the diff engine.
    (("merge", "1.1"), {"rapidfuzz", "agenda.diff", "agenda.merge"}),
    # The user's own templates folder is platformdirs' to name.
    (("export",), {"jinja2", "markdown_it", "agenda.export", "rapidfuzz", "platformdirs",
                   "shutil", "agenda.merge", "agenda.diff", "agenda.cli_documents",
                   "hashlib", "_hashlib", "threading"}),  # the last three: jinja2's
    (("backup", "-o", "{tmp}/x.backup"), {"agenda.backup"}),
    # Backups are read with zipfile (which imports shutil and threading).
    (("restore", "{backup}", "--yes"), {"agenda.backup", "zipfile", "shutil", "threading"}),
    # The demo tables a compilation of item 1.1.
    (("demo", "--no-open", "--db", "{tmp}/new-demo.json"),
     {"rapidfuzz", "agenda.diff", "agenda.merge"}),
    # Listing reads each starter agenda's title (CommonMark: markdown_it, whose logging
    # imports threading) and names the user's folder (platformdirs, whose tempfile imports
    # shutil); `new --template` reads the starter the same way, through the importer.
    (("templates",), {"agenda.cli_documents", "markdown_it", "platformdirs", "shutil",
                      "threading"}),
    (("new", "From a starter", "--delegation", "IN=India", "--delegation", "RU=Russia",
      "--template", "bilateral-annual-summit"),
     {"agenda.importer", "markdown_it", "platformdirs", "shutil", "threading"}),
    # The importer keeps its items in an unlinked temporary file (tempfile imports shutil).
    (("import", "{markdown}", "--as", "IN", "--delegation", "IN=India", "--delegation",
      "RU=Russia"),
     {"agenda.cli_documents", "agenda.importer", "markdown_it", "shutil", "threading"}),
    # The exchange: keys are made and loaded with cryptography (OpenSSL: hashlib's too), a
    # device's packet identity with pyrage; git runs in a subprocess (which imports
    # threading); packets are zip files.
    (("keys", "init", "--as", "IN", "--db", "{empty}"),
     {"agenda.exchange", "cryptography", "pyrage", "hashlib", "_hashlib"}),
    (("keys", "show", "--db", "{pair_in}"), {"agenda.exchange", "hashlib", "_hashlib"}),
    (("remote", "list", "--db", "{pair_in}"), set()),  # the workspace's own list
    (("remote", "add", "mirror", "{joint}", "--db", "{pair_ru}"),  # a second name for it
     {"agenda.exchange", "cryptography", "hashlib", "_hashlib", "subprocess", "threading"}),
    (("sync", "--db", "{pair_in}"),
     {"agenda.exchange", "cryptography", "hashlib", "_hashlib", "subprocess", "threading"}),
    (("send", "--to", "RU", "-o", "{tmp}/p.summit", "--db", "{pair_in}"),
     {"agenda.exchange", "cryptography", "pyrage", "hashlib", "_hashlib", "subprocess",
      "threading", "zipfile", "shutil"}),
    (("receive", "{packet}", "--db", "{pair_ru}"),
     {"agenda.exchange", "cryptography", "pyrage", "hashlib", "_hashlib", "subprocess",
      "threading", "zipfile", "shutil"}),
    # A split without --keys hashes its baselines (the fingerprints: hashlib), signs nothing.
    (("split", "--out", "{tmp}/split-out"), {"agenda.split", "agenda.exchange", "hashlib",
                                             "_hashlib"}),
    (("baseline", "--db", "{split_in}"), {"agenda.split", "agenda.exchange", "hashlib",
                                          "_hashlib"}),
]


def test_every_command_is_pinned() -> None:
    # A command added to the CLI fails here until its imports are pinned in COMMANDS.
    assert {argv[0] for argv, _ in COMMANDS} == set(_all_commands())


@pytest.mark.parametrize(("argv", "allowed"), COMMANDS,
                         ids=[" ".join(argv) for argv, _ in COMMANDS])
def test_each_command_imports_only_what_it_uses(demo_db: Path, tmp_path: Path,
                                                argv: tuple[str, ...], allowed: set[str]
                                                ) -> None:
    places = Places(tmp_path, demo_db)
    words = [word.format_map(places) for word in argv]
    if "--db" not in words:
        words += ["--db", places["db"]]
    assert imported(tmp_path, *words) <= allowed


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
