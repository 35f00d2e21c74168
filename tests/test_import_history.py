"""Re-import: items followed across versions by title and text (retitles, edits, moves,
removals, renamed sections), the hypothesis property (edit, retitle, reorder and delete items
of a generated agenda, re-import, and the summit equals the edited agenda), the replay of a
file's history, and the export → import round trip.

`versions` and `check_replay` are also used by bench/bench_import.py on the real agendas.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import export
from agenda.importer import import_markdown, parse_markdown
from agenda.model import Code, Delegation, Status
from agenda.workspace import NewItem, Workspace

SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]


def summit_items(ws: Workspace, slug: str) -> list[tuple[str, str, str]]:
    """(section, title, current text) of the summit's items still on the agenda, in order."""
    state = ws.state(slug)
    return [(i.section, i.title, state.current_text(i)) for i in state.items
            if i.status != Status.WITHDRAWN]


def file_items(source: str) -> list[tuple[str, str, str]]:
    return [(i.section, i.title, i.text) for i in parse_markdown(source).items]


# Replaying versions of a file ----------------------------------------------------------------

_NOT_PROSE = ("|", "```", "~~~", "<", "    ", "\t", "[")


def versions(source: str, *, seed: int, count: int = 3) -> list[str]:
    """The source and `count` revisions of it, each made the way agendas are revised: a
    line of an item's text edited, an item retitled, removed, or moved after another item
    of its section. Edits are made to the source lines, so every shape stays as written."""
    rng = random.Random(seed)
    chain = [source]
    for _ in range(count):
        text = chain[-1]
        parsed = parse_markdown(text)
        lines = text.split("\n")
        spans = [(i.span, i.section) for i in parsed.items]
        if len(spans) < 4:
            break
        picked = rng.sample(range(len(spans)), k=min(3, len(spans) - 1))
        deleted: set[int] = set()
        moves: list[tuple[int, int]] = []
        for n in picked:
            (start, end), section = spans[n]
            op = rng.choice(["edit", "retitle", "delete", "move"])
            if op == "edit":
                body = [k for k in range(start + 1, end) if lines[k].strip()
                        and not lines[k].lstrip().startswith(_NOT_PROSE)
                        and not lines[k].startswith(_NOT_PROSE)]
                if body:
                    k = rng.choice(body)
                    lines[k] = lines[k].rstrip() + " (revised)"
            elif op == "retitle" and not lines[start].lstrip().startswith(("|", "<")):
                lines[start] = lines[start].rstrip() + ", revised"
            elif op == "delete":
                deleted.add(n)
            elif op == "move":
                others = [m for m, (_, s) in enumerate(spans) if s == section and m != n]
                if others:
                    moves.append((n, rng.choice(others)))
        # Rebuild from spans: removed ones dropped, moved ones placed after their target.
        blocks: dict[int, list[str]] = {n: lines[a:b] for n, ((a, b), _) in enumerate(spans)}
        order = [n for n in range(len(spans)) if n not in deleted]
        for n, target in moves:
            if n in order and target in order:
                order.remove(n)
                order.insert(order.index(target) + 1, n)
        out: list[str] = []
        cursor = 0
        slots = sorted(range(len(spans)), key=lambda m: spans[m][0][0])
        # Lines outside every span (headings, preamble) stay where they were; each span's
        # slot receives the next item of the new order that belongs to the same section.
        queue = {s: [n for n in order if spans[n][1] == s] for _, s in spans}
        for slot in slots:
            (a, b), section = spans[slot]
            out += lines[cursor:a]
            if queue[section]:
                chosen = queue[section].pop(0)
                chunk = blocks[chosen]
                if chunk and chunk[-1].strip():
                    chunk = [*chunk, ""]
                out += chunk
            cursor = b
        out += lines[cursor:]
        revised = "\n".join(out)
        if revised != text and parse_markdown(revised).items:
            chain.append(revised)
    return chain


def check_replay(db: Path, chain: list[str], name: str) -> list[str]:
    """Import the first version, re-import every later one; the problems found (empty: none).

    After each re-import: no item of the previous version was added again, the summit's
    items still in the file are the file's (titles and texts, in its order), and every other
    item is reported missing.
    """
    problems: list[str] = []
    ws = Workspace(db, create=True)
    try:
        import_markdown(ws, chain[0], delegation="IN", delegations=SIDES, title="Replay",
                        new_slug="replay", source_name=name)
        for n, version in enumerate(chain[1:], start=2):
            report = import_markdown(ws, version, delegation="IN", slug="replay",
                                     source_name=name)
            state = ws.state("replay")
            wanted = file_items(version)
            live = [(i.section, i.title, state.current_text(i)) for i in state.items]
            before = {t for _, t, _ in file_items(chain[n - 2])}
            twice = [label for label in report.items_added
                     if label.split(" ", 1)[1] in before]
            if twice:
                problems.append(f"version {n}: added {twice} again")
            missing = [f"{i.number} {i.title}" for i in state.items
                       if (i.section, i.title, state.current_text(i)) not in wanted]
            kept = [entry for entry in live if entry in wanted]
            if kept != wanted:
                lost = [w for w in wanted if w not in live]
                problems.append(f"version {n}: the summit differs from the file; not in the "
                                f"summit: {[t for _, t, _ in lost][:3]}")
            elif sorted(missing) != sorted(report.items_missing):
                problems.append(f"version {n}: missing {missing}, reported "
                                f"{report.items_missing}")
    finally:
        ws.close()
    return problems


WASM_V1 = """\
![logo](/images/logo.png)

## Agenda for the May 4 video call of the Community Group

- **Where**: zoom.us
- **When**: May 4, 4pm-5pm UTC

### Registration

None required if you've attended before.

## Agenda items

1. Opening, welcome and roll call
    1. Opening of the meeting
    1. Introduction of attendees
1. Find volunteers for note taking
1. Adoption of the agenda
1. Proposals and discussions
    1. Update on [Relaxed SIMD](https://github.com/x/relaxed-simd) (Zhi) [15 min]
    1. Poll on the threads proposal [10 min]
1. Closure

## Meeting Notes

### Opening, welcome and roll call

Opened by the chair.

### Proposals and discussions

Discussion of the SIMD update; poll postponed.
"""


def wasm_history() -> list[str]:
    """Four versions of one agenda, written as such agendas are revised over a week."""
    v2 = WASM_V1.replace("1. Poll on the threads proposal [10 min]",
                         "1. Poll on the threads proposal for phase 2 [10 min]")
    v2 = v2.replace("1. Closure", "1. Schedule of the next meeting\n1. Closure")
    v3 = v2.replace("1. Find volunteers for note taking\n1. Adoption of the agenda\n",
                    "1. Adoption of the agenda\n1. Find volunteers for note taking\n")
    v3 = v3.replace("## Agenda items\n", "## Agenda\n")
    v3 = v3.replace("Opened by the chair.", "Opened by the acting chair.")
    v4 = v3.replace("1. Schedule of the next meeting\n", "")
    v4 = v4.replace("May 4, 4pm-5pm UTC", "May 4, 5pm-6pm UTC")
    return [WASM_V1, v2, v3, v4]


def test_replaying_a_files_history(tmp_path: Path) -> None:
    chain = wasm_history()
    assert check_replay(tmp_path / "w.json", chain, "CG-05-04.md") == []
    ws = Workspace(tmp_path / "w.json")
    state = ws.state("replay")
    # The renamed section took its items; the summit reads as the last version.
    assert [s.title for s in state.summit.sections if s.items] == ["Agenda", "Meeting Notes"]
    assert [i.title for i in state.items][:6] == [
        "Opening, welcome and roll call", "Adoption of the agenda",
        "Find volunteers for note taking", "Proposals and discussions",
        "Schedule of the next meeting", "Closure"]
    assert state.summit.dates == "May 4, 5pm-6pm UTC"
    proposals = next(i for i in state.items if i.title == "Proposals and discussions")
    assert [r.code for r in state.tabled(proposals)] == [Code.ADD, Code.MOD]
    assert "phase 2" in state.current_text(proposals)


def test_a_revised_corpus_file_replays_cleanly(tmp_path: Path) -> None:
    source = "# Minutes\n\n## Agenda\n\n" + "".join(
        f"- Topic number {n} on {word}\n  Text about {word} and its follow-up, line {n}.\n\n"
        for n, word in enumerate(["trade", "energy", "health", "space", "ports", "rail"]))
    for seed in range(8):
        chain = versions(source, seed=seed)
        assert len(chain) >= 2
        assert check_replay(tmp_path / f"w{seed}.json", chain, "a.md") == []


# Re-import, case by case -------------------------------------------------------------------------

BASE = """\
# Summit

## Political

- Regional architecture
  The Sides support a free and open region, rules-based and inclusive.
- Counter-terrorism
  Zero tolerance for terrorism in all its forms, including cross-border terrorism.

## Trade

- Bilateral trade target
  USD 30 billion by 2025 through diversified baskets of goods and services.
- Payments
  Settlement in national currencies and interoperable payment systems.
"""


@pytest.fixture
def base(ws: Workspace) -> str:
    import_markdown(ws, BASE, delegation="IN", delegations=SIDES, new_slug="s",
                    source_name="v1.md")
    return "s"


def test_a_retitled_item_is_retitled_and_its_text_modified(ws: Workspace, base: str) -> None:
    revised = BASE.replace("- Counter-terrorism\n", "- Counter-terrorism cooperation\n")
    revised = revised.replace("cross-border terrorism.", "cross-border terrorism and its "
                                                         "financing.")
    report = import_markdown(ws, revised, delegation="RU", slug=base)
    assert report.items_retitled == ["1.2 Counter-terrorism cooperation"]
    assert report.items_changed == ["1.2 Counter-terrorism cooperation"]
    assert report.items_added == [] and report.items_missing == []
    state = ws.state(base)
    assert len(state.items) == 4
    assert state.latest(state.item("1.2")).code == Code.MOD  # type: ignore[union-attr]
    assert any(e.action == "item.retitle" for e in state.events)


def test_a_retitle_with_the_same_text_is_found_by_its_text(ws: Workspace, base: str) -> None:
    revised = BASE.replace("- Payments\n", "- Local currency settlement\n")
    report = import_markdown(ws, revised, delegation="IN", slug=base)
    assert report.items_retitled == ["2.2 Local currency settlement"]
    assert report.items_changed == [] and report.items_added == []


def test_moves_follow_the_file_and_missing_items_are_reported(ws: Workspace,
                                                              base: str) -> None:
    lines = BASE.split("\n")
    regional, counter = lines[4:6], lines[6:8]
    revised = "\n".join([*lines[:4], *counter, *regional, *lines[8:]])
    revised = revised.replace("- Payments\n  Settlement in national currencies and "
                              "interoperable payment systems.\n", "")
    revised = revised.replace("## Trade\n\n", "## Trade\n\n- Energy\n  Long-term LNG "
                                              "contracts.\n")
    report = import_markdown(ws, revised, delegation="IN", slug=base)
    # Of two items that swapped places, one moved.
    assert report.items_moved in (["1.1 Counter-terrorism"], ["1.2 Regional architecture"])
    assert report.items_added == ["2.1 Energy"]
    assert report.items_missing == ["2.3 Payments"]
    assert [i.title for i in ws.state(base).items] == [
        "Counter-terrorism", "Regional architecture", "Energy", "Bilateral trade target",
        "Payments"]


def test_withdraw_missing(ws: Workspace, base: str) -> None:
    ws.add_items(base, [NewItem("Trade", "Russian item", "Tabled by Russia for the record.")],
                 delegation="RU")
    revised = BASE.replace("- Payments\n  Settlement in national currencies and "
                           "interoperable payment systems.\n", "")
    report = import_markdown(ws, revised, delegation="IN", slug=base, withdraw_missing=True)
    assert sorted(report.items_missing) == ["2.2 Payments", "2.3 Russian item"]
    assert sorted(report.items_withdrawn) == sorted(report.items_missing)
    state = ws.state(base)
    assert state.item("2.2").status == Status.WITHDRAWN  # India's own: withdrawn
    russian = state.item("2.3")
    latest = state.latest(russian)
    assert latest is not None and latest.code == Code.SUP and latest.delegation == "IN"
    again = import_markdown(ws, revised, delegation="IN", slug=base, withdraw_missing=True)
    assert again.items_missing == ["2.3 Russian item"]  # the withdrawn one is gone


def test_a_renamed_section_is_recognised(ws: Workspace, base: str) -> None:
    revised = BASE.replace("## Trade\n", "## Trade & Economic\n")
    report = import_markdown(ws, revised, delegation="IN", slug=base)
    assert report.sections_renamed == ["Trade → Trade & Economic"]
    assert report.items_added == [] and report.items_missing == []
    state = ws.state(base)
    assert [(i.section, i.title) for i in state.items][2:] == [
        ("Trade & Economic", "Bilateral trade target"), ("Trade & Economic", "Payments")]


def test_the_json_report_lists_every_kind_of_change(ws: Workspace, base: str) -> None:
    revised = BASE.replace("- Payments\n", "- Local currency settlement\n")
    data = import_markdown(ws, revised, delegation="IN", slug=base).to_json()
    assert set(data["items"]) == {"added", "changed", "retitled", "moved", "missing",
                                  "withdrawn", "unchanged", "refused"}
    assert data["items"]["unchanged"] == ["1.1 Regional architecture", "1.2 Counter-terrorism",
                                          "2.1 Bilateral trade target"]
    assert data["items"]["retitled"] == ["2.2 Local currency settlement"]


# The property ------------------------------------------------------------------------------------

VOCABULARY = sorted({w.strip(".,").lower() for w in """
Sides reaffirmed commitment deepen cooperation trade energy connectivity security respect
sovereignty territorial integrity regular consultations ministers officials regional global
issues mutual interest nuclear power plant fertiliser supply shipping corridor arctic route
vaccine research space station satellite navigation railway freight insurance banking digital
payments customs tariffs investment treaty culture tourism students universities visas
fisheries forestry climate finance hydrogen uranium diamonds pharmaceuticals textiles coal oil
gas pipeline refinery dockyard aircraft engines helicopters frigates submarines drills exercises
counterterrorism narcotics piracy cyber telecom broadband semiconductors software archives
museums cinema sports yoga ayurveda languages translation scholarships harbour glacier
monsoon orchard lantern meadow quarry tundra savanna estuary volcano canyon prairie lagoon
bamboo cedar walnut saffron turmeric cardamom jasmine lotus falcon tiger leopard dolphin
sparrow heron bison walrus""".split()})


@st.composite
def agendas(draw: st.DrawFn) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sections of items, every title and text drawn from words no other item uses, so an
    item's identity is its words, as in a real agenda."""
    words = draw(st.permutations(VOCABULARY))
    pool = iter(words)
    sections = []
    for s in range(draw(st.integers(1, 3))):
        entries = []
        for _ in range(draw(st.integers(1, 3))):
            title = " ".join(next(pool) for _ in range(2)).capitalize()
            text = " ".join(next(pool) for _ in range(5)).capitalize() + "."
            entries.append((title, text))
        sections.append((f"Section {chr(65 + s)}", entries))
    return sections


def render(sections: list[tuple[str, list[tuple[str, str]]]], shape: str) -> str:
    out = ["# Generated summit", ""]
    for name, entries in sections:
        out += [f"## {name}", ""]
        for title, text in entries:
            out += [f"### {title}", "", text, ""] if shape == "headings" else \
                [f"- {title}", f"  {text}", ""]
    return "\n".join(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agendas(), st.data(), st.sampled_from(["headings", "list"]))
def test_reimport_of_an_edited_agenda_gives_the_edited_agenda(
        sections: list[tuple[str, list[tuple[str, str]]]], data: st.DataObject,
        shape: str) -> None:
    edited = []
    used = set(render(sections, "list").lower().replace(".", " ").split())
    spare = iter(w for w in VOCABULARY if w not in used)
    for name, entries in sections:
        kept = []
        for title, text in entries:
            op = data.draw(st.sampled_from(["keep", "edit", "retitle", "delete"]))
            if op == "edit":
                kept.append((title, text.removesuffix(".") + " and " + next(spare) + "."))
            elif op == "retitle":
                kept.append((next(spare).capitalize() + " " + title.lower(), text))
            elif op == "keep":
                kept.append((title, text))
        kept = data.draw(st.permutations(kept))
        if data.draw(st.booleans()):
            kept.append((next(spare).capitalize() + " " + next(spare),
                         " ".join(next(spare) for _ in range(4)).capitalize() + "."))
        edited.append((name, list(kept)))
    if not any(entries for _, entries in edited):
        return
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder) / "w.json", create=True)
        try:
            import_markdown(ws, render(sections, shape), delegation="IN", delegations=SIDES,
                            new_slug="s")
            import_markdown(ws, render(edited, shape), delegation="IN", slug="s",
                            withdraw_missing=True)
            expected = [(name, title, text) for name, entries in edited
                        for title, text in entries]
            assert summit_items(ws, "s") == expected
            assert len(ws.state("s").items) == sum(len(e) for _, e in sections) + sum(
                1 for e in expected if e[1] not in {t for _, es in sections for t, _ in es}
                and e[2] not in {x for _, es in sections for _, x in es})
        finally:
            ws.close()


# Export, then import ---------------------------------------------------------------------------

def test_export_then_import_gives_the_same_items_texts_and_details(ws: Workspace) -> None:
    source = ("# Annual Summit\n\n**Host**: India\n**Dates**: 1–2 March\n**Venue**: Delhi\n\n"
              "Circulated by the host. See [the note][n].\n\n## Present\n\n* Ann Lee\n"
              "* Bo Chan\n\n## Trade\n\n| Topic | Lead |\n|---|---|\n| Targets | IN |\n\n"
              "- Payments [in national currencies][RU: in agreed currencies]\n"
              "  1. nested\n     - deeper\n\n## Energy\n\n### Nuclear\n\n```\ncode # x\n```\n\n"
              "> quoted\n\n[n]: https://ex.org/n\n")
    import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="a")
    markdown = export.render(ws, "a", "agenda")
    with tempfile.TemporaryDirectory() as folder:
        copy = Workspace(Path(folder) / "copy.json", create=True)
        try:
            report = import_markdown(copy, markdown, delegation="IN", delegations=SIDES,
                                     new_slug="b")
            assert summit_items(copy, "b") == summit_items(ws, "a")
            left, right = ws.summit("a"), copy.summit("b")
            assert (left.title, left.host, left.dates, left.venue) == \
                (right.title, right.host, right.dates, right.venue)
            assert right.preamble == left.preamble
            assert not [n for n in report.notes if n.kind == "unplaced"]
            # And a second export of the copy is the first one.
            again = export.render(copy, "b", "agenda")
            assert again.split("## 1.", 1)[1] == markdown.split("## 1.", 1)[1]
        finally:
            copy.close()


def test_cli_reimport_reports_and_withdraws_missing_items(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from agenda import cli

    def run(argv: list[str]) -> int:
        try:
            cli.main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    source = tmp_path / "agenda.md"
    source.write_text(BASE, encoding="utf-8")
    db = str(tmp_path / "w.json")
    assert run(["import", str(source), "--db", db, "--as", "IN", "--delegation", "IN=India",
                "--delegation", "RU=Russia"]) == 0
    capsys.readouterr()
    source.write_text(BASE.replace("- Payments\n", "- Local currency settlement\n")
                      .replace("- Counter-terrorism\n  Zero tolerance for terrorism in all its "
                               "forms, including cross-border terrorism.\n", ""),
                      encoding="utf-8")
    assert run(["import", str(source), "--db", db, "--as", "IN"]) == 0
    out = capsys.readouterr().out
    assert "1 retitled" in out and "1 missing" in out
    assert "missing from the file: 1.2 Counter-terrorism" in out
    assert run(["import", str(source), "--db", db, "--as", "IN", "--withdraw-missing",
                "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["items"]["missing"] == data["items"]["withdrawn"] == ["1.2 Counter-terrorism"]
    assert Workspace(Path(db)).state(data["summit"]).item("1.2").status == Status.WITHDRAWN
