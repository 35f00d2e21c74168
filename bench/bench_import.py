"""Importer figures: word coverage on the real agendas, re-import of revised versions, speed.

Run: python bench/bench_import.py [--corpus ../shared/agendas] [--tool ...] [--repeat N]
[--lost N]. Prints, per corpus, the median and worst word coverage (measured by the shared
agenda_coverage tool on the agenda export), the words lost without a report line, the items
that start bracketed; then the replay of revised versions of each file; then a 5,000-line
import beside a plain markdown-it parse of the same text (interleaved runs, medians, ratio).
It asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from markdown_it import MarkdownIt

from agenda import export
from agenda.importer import import_markdown, parse_markdown
from agenda.model import Delegation
from agenda.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]


def load_tool(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("agenda_coverage", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def coverage_of(tool: ModuleType, path: Path, folder: Path) -> dict[str, Any]:
    """Import one file into a fresh workspace and measure its word coverage."""
    source = path.read_text(encoding="utf-8-sig")
    ws = Workspace(folder / f"{path.stem}.json", create=True)
    try:
        report = import_markdown(ws, source, delegation="IN", delegations=SIDES,
                                 new_slug="bench", source_name=path.name)
        markdown = export.render(ws, "bench", "agenda")
        state = ws.state("bench")
        bracketed = sum(1 for i in state.items if i.status.value == "bracketed")
    finally:
        ws.close()
    result = tool.compare(source, markdown, report.to_json())
    # The tool knows three kinds of report note; any note of ours names a line.
    named = {n for note in report.notes for n in range(note.line, note.end + 1)}
    result["lost_unnamed"] = sum(len(tool.words_urls(text)[0]) for n, _, _, text in
                                 result["lost_lines"] if n not in named)
    result["items"] = len(report.items_added)
    result["bracketed"] = bracketed
    return result


def corpus_figures(corpus: Path, tool: ModuleType, lost: int) -> list[float]:
    everything: list[float] = []
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for path in sorted(folder.glob("*.md")):
                if not path.read_text(encoding="utf-8-sig").strip():
                    continue  # the empty pointer file: nothing to cover
                try:
                    rows.append((path.name, coverage_of(tool, path, Path(tmp))))
                except Exception as exc:  # a bench reports every file, whatever happens
                    print(f"  {path.name}: FAILED {type(exc).__name__}: {exc}")
        if not rows:
            continue
        values = [r["word_coverage"] for _, r in rows]
        everything += values
        worst_name, worst = min(rows, key=lambda r: r[1]["word_coverage"])
        silent = sum(r["lost_words_silent"] for _, r in rows)
        unnamed = sum(r["lost_unnamed"] for _, r in rows)
        items = sum(r["items"] for _, r in rows)
        bracketed = sum(r["bracketed"] for _, r in rows)
        print(f"{folder.name:<15} {len(rows):>3} files  median {statistics.median(values):6.1%}"
              f"  worst {worst['word_coverage']:6.1%} ({worst_name})  items {items:>5}"
              f"  bracketed {bracketed:>3}")
        print(f"{'':<15} lost words on lines the tool calls silent {silent}, on lines no "
              f"note of the report names {unnamed}")
        for name, row in sorted(rows, key=lambda r: r[1]["word_coverage"])[:lost]:
            for n, kind, why, text in row["lost_lines"][:lost]:
                print(f"    {name}:{n} [{kind}; {why}] {text[:100]}")
    return everything


def replay_figures(corpus: Path) -> None:
    """Each file, then three revised versions of it (edited, retitled, reordered, cut)."""
    from tests.test_import_history import check_replay, versions

    files = sorted(p for p in corpus.glob("*/*.md") if p.read_text(encoding="utf-8").strip())
    problems = replays = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, path in enumerate(files):
            chain = versions(path.read_text(encoding="utf-8-sig"), seed=n)
            if len(chain) < 2:
                continue
            replays += 1
            found = check_replay(Path(tmp) / f"r{n}.json", chain, path.name)
            for problem in found:
                print(f"  {path.parent.name}/{path.name}: {problem}")
            problems += bool(found)
    print(f"Re-import of revised versions: {replays} files replayed, {problems} with problems")


def agenda_markdown(lines: int) -> str:
    """A long agenda in the shapes the importer meets (lists with nested entries, topic
    tables, sub-headings, details, reference links), about as many lines per item as the
    real agendas have (13 on the corpus)."""
    out = ["# Generated summit", "", "**Host**: India", "**Dates**: 1-2 March", ""]
    section = item = 0
    while len(out) < lines:
        section += 1
        out += [f"## {section}. Section {section}", "", "Intro of the section.", ""]
        for _ in range(6):
            item += 1
            out += [f"{item % 9 + 1}. Item {item} with a [link](https://example.org/{item})",
                    f"   The Sides will discuss point {item} and its follow-up, with",
                    "   *emphasis* on the [reference][r] and the work plan.", "",
                    f"   - nested point of {item}", "   - another nested point", "",
                    "   A closing paragraph of the entry.", ""]
        out += ["| Topic | Presenter | Time |", "| --- | --- | --- |"]
        for _ in range(3):
            item += 1
            out.append(f"| Topic {item} | Someone | 10 min |")
        out.append("")
        for _ in range(3):
            item += 1
            out += [f"### Item {item}", "", f"The Sides agreed on point {item},",
                    "with *emphasis* and a [ref][r].", "", "- a point", "- another point",
                    "", "More text of the item, on", "two lines.", ""]
        out += ["[r]: https://example.org/r", ""]
    return "\n".join(out[:lines]) + "\n"


def timing(repeat: int) -> None:
    source = agenda_markdown(5000)
    reference = MarkdownIt("commonmark").enable("table")
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        # Interleaved, so both see the same machine load.
        start = time.perf_counter()
        reference.parse(source)
        theirs.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            ws = Workspace(Path(tmp) / "bench.json", create=True)
            start = time.perf_counter()
            import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="bench")
            ours.append(time.perf_counter() - start)
            ws.close()
    items = len(parse_markdown(source).items)
    us, ref = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"Import of a {source.count(chr(10))}-line agenda ({items} items) into a new summit, "
          f"median of {repeat}: {us:.0f} ms (target < 500 ms); markdown-it parse of the same "
          f"text {ref:.0f} ms; ratio {us / ref:.1f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "agendas",
                        help="folder of corpora, one sub-folder each (default ../shared/agendas)")
    parser.add_argument("--tool", type=Path,
                        default=ROOT.parent / "shared" / "tools" / "agenda_coverage.py")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--lost", type=int, default=0, help="lost lines to show per corpus")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.corpus.is_dir() and args.tool.is_file():
        tool = load_tool(args.tool)
        print("Word coverage of the agenda export (agenda_coverage.compare)")
        values = corpus_figures(args.corpus, tool, args.lost)
        if values:
            print(f"{'all':<15} {len(values):>3} files  median {statistics.median(values):6.1%}"
                  f"  worst {min(values):6.1%}   (targets: median >= 98%, worst >= 90%)")
        if not args.skip_replay:
            replay_figures(args.corpus)
    else:
        print(f"no corpus at {args.corpus} (or no tool at {args.tool}); coverage skipped")
    timing(args.repeat)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
