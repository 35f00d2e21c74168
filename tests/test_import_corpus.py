"""The real agendas in ../shared/agendas: word coverage of every file (measured by the shared
agenda_coverage tool on the agenda export), items counted by hand on three files per corpus,
and revised versions of them re-imported. Skipped when the corpus is not there."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agenda import export
from agenda.importer import import_markdown, parse_markdown
from agenda.model import Delegation
from agenda.workspace import Workspace
from tests.test_import_history import check_replay, versions

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "agendas"
TOOL = SHARED / "tools" / "agenda_coverage.py"
SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]

pytestmark = pytest.mark.skipif(not (CORPUS.is_dir() and TOOL.is_file()),
                                reason="no ../shared/agendas corpus (or coverage tool) here")

# Counted by hand from the files, by the rules of `summit import`: list entries and
# sub-headings of a section are items; sections with no entries (links, attendees, a
# paragraph) and what comes before the first section are the preamble.
HAND_COUNTS = {
    # 3 numbered entries under "Agenda items"; the other sections hold only paragraphs.
    "wasm-cg/main_2025_CG-11-04.md": 3,
    # 5 numbered entries (nested ones in their text) + "### Schedule constraints".
    "wasm-cg/main_2021_CG-07-06.md": 6,
    "wasm-cg/main_2020_CG-04-14.md": 6,
    # "# 2019-09-05" is the title; 3 backport entries; the other two sections are text.
    "rust-compiler/content_minutes_triage-meeting_2019-09-05.md": 3,
    # Title "# 2019-04-11"; 2 + 1 list entries; 2 working-group sub-headings.
    "rust-compiler/content_minutes_triage-meeting_2019-04-11.md": 5,
    # 2 backport entries; 2 working-group sub-headings (reference-link titles).
    "rust-compiler/content_minutes_triage-meeting_2020-02-13.md": 4,
    # 8 agenda entries; "### Discussion" (the "### Present" list is attendees; "## Links"
    # is links).
    "nodejs-tsc/meetings_io.js_2014-10-15.md": 9,
    # 3 sub-headings under "## Agenda" and 3 under "## Minutes".
    "nodejs-tsc/meetings_2016-01-07.md": 6,
    # 5 sub-headings under "## Agenda", 1 entry under "## Strategic Initiatives".
    "nodejs-tsc/meetings_2021-11-04.md": 6,
    # 5 session sub-headings under the one day.
    "ietf-httpwg/ietf98_agenda.md": 5,
    # 2 sub-headings on 1 February, 3 on 3 February.
    "ietf-httpwg/interim-22-02_agenda.md": 5,
    # 2 days under "## Schedule", 4 sub-headings under "## Agenda" (the issues under their
    # own sub-headings stay in their text), 4 + 5 list entries under the last two sections.
    "ietf-httpwg/interim-13-06_agenda.md": 15,
}


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agenda_coverage", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def coverage(tool: ModuleType, path: Path, folder: Path) -> dict[str, Any]:
    source = path.read_text(encoding="utf-8-sig")
    ws = Workspace(folder / f"{path.parent.name}-{path.stem}.json", create=True)
    try:
        report = import_markdown(ws, source, delegation="IN", delegations=SIDES,
                                 new_slug="corpus", source_name=path.name)
        result: dict[str, Any] = tool.compare(source, export.render(ws, "corpus", "agenda"),
                                              report.to_json())
    finally:
        ws.close()
    named = {n for note in report.notes for n in range(note.line, note.end + 1)}
    result["unnamed"] = [line for line in result["lost_lines"] if line[0] not in named]
    return result


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*.md")
                  if p.read_text(encoding="utf-8-sig").strip())


def test_word_coverage_of_every_corpus(tmp_path: Path) -> None:
    tool = load_tool()
    by_corpus: dict[str, list[float]] = {}
    for path in corpus_files():
        result = coverage(tool, path, tmp_path)
        by_corpus.setdefault(path.parent.name, []).append(result["word_coverage"])
        assert result["word_coverage"] >= 0.90, (path.name, result["lost_sample"])
    assert len(by_corpus) >= 4
    for name, values in by_corpus.items():
        assert statistics.median(values) >= 0.98, name


@pytest.mark.parametrize("name", sorted(HAND_COUNTS))
def test_items_counted_by_hand(name: str) -> None:
    parsed = parse_markdown((CORPUS / name).read_text(encoding="utf-8-sig"))
    assert len(parsed.items) == HAND_COUNTS[name]
    assert all(i.title.strip() and "://" not in i.title for i in parsed.items)


def test_no_title_is_a_url_and_no_markdown_bracket_is_disputed() -> None:
    from agenda.brackets import parse

    for path in corpus_files():
        parsed = parse_markdown(path.read_text(encoding="utf-8-sig"))
        for item in parsed.items:
            assert "://" not in item.title, (path.name, item.title)
            for group in parse(item.text):
                for option in group.options:
                    inside = item.text[option.start:option.end]
                    # What is left is ordinary text in brackets: never a link or a box.
                    assert not inside.startswith(("[ ]", "[x]", "[^")), (path.name, inside)
                    assert not item.text.startswith("(", option.end), (path.name, inside)


def test_revised_versions_of_corpus_files_reimport_cleanly(tmp_path: Path) -> None:
    files = corpus_files()
    picked = [p for n, p in enumerate(files) if n % 7 == 0]
    with tempfile.TemporaryDirectory() as folder:
        for n, path in enumerate(picked):
            chain = versions(path.read_text(encoding="utf-8-sig"), seed=n)
            problems = check_replay(Path(folder) / f"r{n}.json", chain, path.name)
            assert not problems, (path.name, problems)
