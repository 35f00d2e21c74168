"""Export and import timings: each template on 500 items x 10 revisions, and a 5,000-line import.

Run: python bench/bench_export.py [--repeat N]. Prints median milliseconds against the targets
(Markdown: 200 ms; HTML: 1.5× markdown-it-py alone rendering the same Markdown, configured as
ours (CommonMark with tables and strikethrough, raw HTML off, our link check) but without our
CriticMarkup rule, measured in the same run, interleaved); it asserts nothing. The redline's
row is followed by its word diffs alone (`diff_words` on the pairs it diffs, in the same
interleaving): the split between the diff engine and the rest of the export.
Times are this process's CPU time: on a shared machine wall time also counts the others' work
(a 125 ms redline read 175 ms under a load of 3).
The summit is built in memory as a SummitState (building it through the workspace would take
minutes and time the store, not the export). Each Markdown row has markdown-it alone beside
it too, for scale (its target is absolute). `--json PATH` also saves every figure for
bench/report.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agenda import export, records, templates  # noqa: E402
from agenda import state as state_module  # noqa: E402
from agenda.diff import diff_words  # noqa: E402
from agenda.importer import import_markdown, parse_markdown  # noqa: E402
from agenda.model import Delegation, to_iso  # noqa: E402
from agenda.state import SummitState, keys_in_order  # noqa: E402
from agenda.state import build_state as fold_records  # noqa: E402
from agenda.workspace import Workspace  # noqa: E402
from bench import results  # noqa: E402

TARGET_MS = 200.0
HTML_TARGET = 1.5
SECTIONS, ITEMS_PER_SECTION, REVISIONS = 10, 50, 10
START = datetime(2021, 2, 11, 9, 0, tzinfo=UTC)

WORDS = ("The Sides reaffirmed their commitment to deepen cooperation in trade, energy, "
         "connectivity and security, based on respect for sovereignty and territorial "
         "integrity, and agreed to hold regular consultations at the level of Ministers and "
         "senior officials on regional and global issues of mutual interest").split()


def text_for(item: int, revision: int) -> str:
    words = list(WORDS)
    for k in range(revision):
        words[(item + 7 * k) % len(words)] = f"term{item}x{k}"
    return " ".join(words) + "."


def build_state(viewer: str | None) -> SummitState:
    """500 items with 10 tabled revisions each (IN and RU alternating), plus, for a viewer,
    an internal draft and a note on every item: records made through the one codec and
    folded as the workspace folds them."""
    clock = iter(to_iso(START + timedelta(minutes=n)) for n in range(10**7))
    chain: list[records.Record] = []
    team: list[records.Record] = []

    def joint(kind: str, author: str, body: dict) -> records.Record:
        record = records.make(kind=kind, summit=chain[0].id if chain else "", scope="joint",
                              author=author, lamport=len(chain) + 1,
                              deps=[chain[-1].id] if chain else [], created=next(clock),
                              body=body)
        chain.append(record)
        return record

    def internal(kind: str, body: dict) -> None:
        assert viewer is not None
        deps = sorted({chain[-1].id, *([team[-1].id] if team else [])})
        lamport = 1 + max(chain[-1].lamport, team[-1].lamport if team else 0)
        team.append(records.make(kind=kind, summit=chain[0].id, scope=f"team:{viewer}",
                                 author=viewer, lamport=lamport, deps=deps,
                                 created=next(clock), body=body))

    sections = [{"uuid": f"section-{s}", "title": f"Section {s + 1}", "order": key}
                for s, key in enumerate(keys_in_order(SECTIONS))]
    joint(records.GENESIS, "", {
        "slug": "bench", "title": "Benchmark Summit", "venue": "New Delhi", "dates": "2021",
        "host": "", "preamble": "", "chair": None, "sections": sections,
        "delegations": [{"code": "IN", "name": "India", "head": ""},
                        {"code": "RU", "name": "Russia", "head": ""}]})
    for s in range(SECTIONS):
        for i, key in enumerate(keys_in_order(ITEMS_PER_SECTION)):
            n = s * ITEMS_PER_SECTION + i
            item = joint(records.ITEM_ADD, "IN", {"title": f"Item {n} on cooperation",
                                                  "section": f"section-{s}", "order": key,
                                                  "tags": []}).uuid
            parents: list[str] = []
            for r in range(REVISIONS):
                parents = [joint(records.REVISION, "IN" if r % 2 == 0 else "RU", {
                    "item": item, "code": "ADD" if r == 0 else "MOD",
                    "text": text_for(n, r), "justification": "Bench",
                    "parents": parents}).uuid]
            if viewer:
                internal(records.REVISION, {"item": item, "code": "MOD",
                                            "text": text_for(n, 11),
                                            "justification": "Fallback", "parents": parents})
                internal(records.NOTE, {"item": item, "text": "Red line here."})
    return fold_records(chain + team, viewer, slug="bench")


def changed_pairs(state: SummitState) -> list[tuple[str, str]]:
    """The (base, target) texts the redline diffs: each item's last two tabled texts, where
    they differ (an unchanged item is written without a diff)."""
    pairs = []
    for item in state.items:
        tabled = state.tabled(item)
        if len(tabled) >= 2 and tabled[-2].text != tabled[-1].text:
            pairs.append((tabled[-2].text, tabled[-1].text))
    return pairs


def median_ms(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        action()
        timings.append((time.process_time() - start) * 1000)
    return statistics.median(timings)


def agenda_markdown(lines: int) -> str:
    """A generated agenda of about `lines` lines: sections of items with two-line texts."""
    out = ["# Generated summit", ""]
    section = item = 0
    while len(out) < lines:
        if item % 20 == 0:
            section += 1
            out += [f"## {section}. Section {section}", ""]
        item += 1
        out += [f"### {section}.{item} Item {item}", "", f"The Sides agreed on point {item},",
                "with *emphasis* and a [link](https://example.org).", ""]
    return "\n".join(out[:lines]) + "\n"


def interleaved_ms(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median milliseconds of each action, run in turns (A B A B...) so load falls alike."""
    timings: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            # Each run starts with the collector's generations empty: otherwise a collection
            # the run before set up lands in whichever run comes next (ours or the reference),
            # and which one it is moves with the objects any module import leaves behind.
            gc.collect()
            start = time.process_time()
            action()
            timings[name].append((time.process_time() - start) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def report(label: str, ms: float) -> None:
    mark = "ok" if ms <= TARGET_MS else "over target"
    print(f"  {label:<34} {ms:9.1f} ms   ({mark})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also save every figure to PATH (for bench/report.py)")
    args = parser.parse_args(argv)
    print(f"Load average {os.getloadavg()[0]:.1f} at the start (CPU times; the import: wall)")
    print(f"Export of {SECTIONS * ITEMS_PER_SECTION} items x {REVISIONS} revisions; median of "
          f"{args.repeat}; targets: Markdown < {TARGET_MS:.0f} ms each, HTML ≤ {HTML_TARGET}× "
          "markdown-it alone")
    joint, brief = build_state(None), build_state("IN")
    # markdown-it-py configured exactly as our renderer (CommonMark, tables, strikethrough, raw
    # HTML off, our link check), without our one plugin, the CriticMarkup rule.
    reference = export.html_renderer(critic=False)
    for name in ("agenda", "negotiating-text", "redline", "brief"):
        info = templates.find_template(name)
        state = brief if info.view == "delegation" else joint
        # Each run as `summit export` renders, once in a fresh process: a fresh view, and no
        # merge left in the cache by the run before (the app's second render is cheaper).
        def markdown(state: SummitState = state, info: templates.TemplateInfo = info) -> str:
            state_module._MERGES.clear()
            return export.render_state(state, info)

        md_ms = median_ms(markdown, args.repeat)
        report(f"{name} (md)", md_ms)
        # The whole HTML export (template, merges, diffs, Markdown to HTML) beside markdown-it
        # alone turning the finished Markdown into HTML.
        text = markdown()
        actions = {"ours": lambda markdown=markdown: export.to_html(markdown(), "Bench"),
                   "markdown-it": lambda text=text: reference.render(text)}
        pairs = changed_pairs(joint) if name == "redline" else []
        if pairs:
            # The split of the redline's time: the word diffs it asks for (diff.py's), alone.
            actions["diffs"] = lambda pairs=pairs: [diff_words(a, b) for a, b in pairs]
        times = interleaved_ms(actions, args.repeat)
        ratio = times["ours"] / times["markdown-it"]
        print(f"  {name + ' (html)':<34} {times['ours']:9.1f} ms   markdown-it alone "
              f"{times['markdown-it']:7.1f} ms   {ratio:4.2f}×  (target ≤ {HTML_TARGET}×: "
              f"{'ok' if ratio <= HTML_TARGET else 'over'}; {len(text) // 1000} KB of Markdown)")
        section = (f"Export, {SECTIONS * ITEMS_PER_SECTION} items × {REVISIONS} revisions "
                   "(CPU time)")
        results.record(section, f"{name}, Markdown", md_ms,
                       reference="markdown-it alone turning it into HTML (for scale)",
                       ref=times["markdown-it"], target=f"< {TARGET_MS:.0f} ms",
                       met=md_ms < TARGET_MS)
        results.record(section, f"{name}, HTML", times["ours"],
                       reference="markdown-it alone on the same Markdown",
                       ref=times["markdown-it"], target=f"≤ {HTML_TARGET}×",
                       met=ratio <= HTML_TARGET, note=f"{len(text) // 1000} KB of Markdown")
        if pairs:
            rest = times["ours"] - times["markdown-it"] - times["diffs"]
            print(f"  {'  of which its word diffs alone':<34} {times['diffs']:9.1f} ms   "
                  f"({len(pairs)} diffs; ours less markdown-it less the diffs: {rest:.1f} ms)")
    print(f"Load average {os.getloadavg()[0]:.1f} at the end of the exports")

    source = agenda_markdown(5000)
    parsed = parse_markdown(source)
    print(f"Import of a {source.count(chr(10))}-line agenda ({len(parsed.items)} items)")
    report("parse (outline only)", median_ms(lambda: parse_markdown(source), args.repeat))
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder) / "bench.json", create=True)
        start = time.perf_counter()
        import_markdown(ws, source, delegation="IN", delegations=[Delegation("IN", "India"),
                                                                 Delegation("RU", "Russia")])
        report("import into a new summit (once)", (time.perf_counter() - start) * 1000)
        ws.close()
    sys.stdout.flush()
    results.write(args.json, "bench_export")


if __name__ == "__main__":
    main()
