"""Import: outlines of messy agendas, round trips with export, re-import, CLI, and property
tests (no crash on any CommonMark document; every non-blank line accounted for)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import cli, export
from agenda.demo import DEMO_SLUG
from agenda.import_shapes import NO_TEXT
from agenda.importer import (
    ParsedAgenda,
    import_markdown,
    new_summit_from_starter,
    parse_markdown,
    starter_sections,
)
from agenda.model import AgendaError, Delegation, Status
from agenda.workspace import Workspace

SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]


def run(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def outline(parsed: ParsedAgenda) -> list[tuple[str, str, str]]:
    return [(i.section, i.title, i.text) for i in parsed.items]


# Outlines ------------------------------------------------------------------------------------

MESSY = """\
---
title: India–Russia Annual Summit 2021
venue: New Delhi
---

# Draft agenda *(MEA, rev. 3)*

Prepared by the Eurasia Division. <!-- internal: do not circulate -->

## 1. Political & **Strategic**

### 1.1 Regional _security_ architecture

The Sides reaffirmed their commitment to a [free and open](https://example.org/fo) region.

| Topic | Lead |
| --- | --- |
| Terrorism | MEA |

#### Background

1. First point
   1. nested point
2. Second point

### 1.2 `2+2` dialogue <!-- check name -->

Text of 1.2.

## Trade & Economic

Intro text of the trade section.

- Bilateral trade target
  USD 30 billion by 2025.

  - sub-point kept in the text
- [Payments](http://pay.example) in national currencies

Closing remark of the section.

[ref]: https://example.org/ref
"""


def test_messy_agenda_outline() -> None:
    parsed = parse_markdown(MESSY)
    assert parsed.title == "Draft agenda (MEA, rev. 3)"
    assert parsed.front_matter == {"title": "India–Russia Annual Summit 2021",
                                   "venue": "New Delhi"}
    assert parsed.details == {"venue": "New Delhi"}
    # The heading is the title; the other title of the front matter is kept, not lost.
    assert parsed.preamble.startswith("- **title**: India–Russia Annual Summit 2021\n\n"
                                      "Prepared by the Eurasia Division.")
    assert "# Trade & Economic\n\nIntro text of the trade section." in parsed.preamble
    assert parsed.section_titles == ["Political & Strategic", "Trade & Economic"]
    items = outline(parsed)
    assert [(s, t) for s, t, _ in items] == [
        ("Political & Strategic", "Regional security architecture"),
        ("Political & Strategic", "2+2 dialogue"),
        ("Trade & Economic", "Bilateral trade target"),
        ("Trade & Economic", "Payments in national currencies"),
    ]
    first = items[0][2]
    assert first.startswith("The Sides reaffirmed")
    assert "| Terrorism | MEA |" in first
    assert "# Background" in first and "#### Background" not in first
    assert "   1. nested point" in first
    # The heading's HTML comment is stripped from the title and kept in the text.
    assert items[1][2] == "`2+2` dialogue <!-- check name -->\n\nText of 1.2."
    assert items[2][2] == "USD 30 billion by 2025.\n\n- sub-point kept in the text"
    # The link's text is the title; the link, and what follows the item, are its text.
    assert items[3][2] == ("[Payments](http://pay.example) in national currencies\n\n"
                           "Closing remark of the section.")
    # A definition no text uses is named in the report.
    assert any(n.kind == "metadata" and n.text == "[ref]: https://example.org/ref"
               for n in parsed.notes)
    kinds = {(n.kind, n.line) for n in parsed.notes}
    assert ("front matter", 1) in kinds and ("title", 6) in kinds
    assert ("preamble", 8) in kinds and ("preamble", 32) in kinds
    assert not [n for n in parsed.notes if n.kind == "unplaced"]


def test_list_items_without_headings_go_to_one_section() -> None:
    parsed = parse_markdown("1. Counter-terrorism\n2. Trade\n   The target.\n")
    assert parsed.section_titles == ["General"]
    assert outline(parsed) == [("General", "Counter-terrorism", NO_TEXT),
                               ("General", "Trade", "The target.")]
    assert any(n.kind == "warning" and "no text of its own" in n.reason for n in parsed.notes)


def test_setext_headings_and_repeated_sections() -> None:
    parsed = parse_markdown("Energy\n======\n\nOil\n---\n\nText.\n\nHealth\n======\n\n- Vaccines"
                            "\n\nEnergy\n======\n\nGas\n---\n\nMore.\n")
    assert parsed.section_titles == ["Energy", "Health"]
    assert outline(parsed) == [("Energy", "Oil", "Text."), ("Health", "Vaccines", NO_TEXT),
                               ("Energy", "Gas", "More.")]


def test_nothing_to_import(ws: Workspace, slug: str) -> None:
    source = "Just a paragraph.\n\n<!-- and a comment -->\n"
    parsed = parse_markdown(source)
    assert parsed.items == [] and parsed.sections == []
    assert [n.kind for n in parsed.notes] == ["preamble"]
    before = ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())
    with pytest.raises(AgendaError, match="no agenda items"):
        import_markdown(ws, source, delegation="IN", slug=slug)
    with pytest.raises(AgendaError, match="no agenda items"):
        import_markdown(ws, source, delegation="IN", delegations=SIDES, title="New")
    assert (ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())) \
        == before


# Round trips ---------------------------------------------------------------------------------

def same_summit(a_ws: Workspace, a: str, b_ws: Workspace, b: str) -> None:
    left, right = a_ws.state(a), b_ws.state(b)
    assert [s.title for s in left.summit.sections] == [s.title for s in right.summit.sections]
    assert [(i.number, i.title, left.current_text(i)) for i in left.items] == \
        [(i.number, i.title, right.current_text(i)) for i in right.items]


def test_cli_export_then_import_reproduces_the_demo(demo: Workspace, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    agenda = tmp_path / "agenda.md"
    assert run(["export", "--db", str(demo.path), "--template", "agenda", "-o", str(agenda)]) == 0
    db = tmp_path / "copy.json"
    assert run(["import", str(agenda), "--db", str(db), "--as", "IN", "--delegation",
                "IN=India", "--delegation", "RU=Russia"]) == 0
    out = capsys.readouterr().out
    assert "Created india-russia-annual-summit-2021 from agenda.md" in out
    assert "9 added, 0 changed" in out
    copy = Workspace(db)
    same_summit(demo, DEMO_SLUG, copy, "india-russia-annual-summit-2021")


TRICKY_TEXTS = {
    "# [x] | *y* <b>": "Text with a | pipe, *stars* and <b>tags</b>.",
    "Headings inside": "# Own heading\n\nBody.\n\n## Sub\n\nMore.",
    "A table": "| a | b |\n| --- | --- |\n| 1 | 2 |",
    "Nested lists": "1. one\n   - a\n   - b\n2. two",
    "Code": "```python\nprint('# not a heading')\n```",
    "Quote": "> quoted\n> text",
    "Trailing ###": "Ends with hashes ###",
    "Status: a title": "*Status:* this paragraph is text, not metadata, because it is the "
                       "item's own.",
}


def test_round_trip_of_tricky_items(ws: Workspace) -> None:
    entry = ws.create_summit("Tricky", SIDES, sections=["One", "Two | *x*"])
    for n, (title, text) in enumerate(TRICKY_TEXTS.items()):
        ws.add_item(entry.slug, section="One" if n % 2 else "Two | *x*", title=title,
                    text=text, delegation="IN")
    markdown = export.render(ws, entry.slug, "agenda")
    report = import_markdown(ws, markdown, delegation="RU", delegations=SIDES,
                             new_slug="tricky-copy")
    assert not report.unplaced[1:], report.unplaced  # only the export's own preamble
    same_summit(ws, entry.slug, ws, "tricky-copy")


def test_reimport_tables_mods_and_adds_without_duplicating(ws: Workspace, slug: str) -> None:
    first = "# S\n\n## Political & Strategic\n\n### Regional architecture\n\nThe Sides " \
            "support a free and open Indo-Pacific region.\n\n### Counter-terrorism\n\nText A.\n"
    report = import_markdown(ws, first, delegation="IN", slug=slug, source_name="a.md")
    assert report.items_unchanged == ["1.1 Regional architecture"]
    assert report.items_added == ["1.2 Counter-terrorism"]
    second = first.replace("Text A.", "Text A, revised.") + "\n## Energy\n\n- Nuclear\n  Text.\n"
    report = import_markdown(ws, second, delegation="RU", slug=slug, source_name="a.md")
    assert report.items_changed == ["1.2 Counter-terrorism"]
    assert report.items_unchanged == ["1.1 Regional architecture"]
    assert report.items_added == ["4.1 Nuclear"] and report.sections_added == ["Energy"]
    state = ws.state(slug)
    assert [i.title for i in state.items] == ["Regional architecture", "Counter-terrorism",
                                              "Nuclear"]
    latest = state.latest(state.item("1.2"))
    assert latest and latest.code.value == "MOD" and latest.delegation == "RU"
    assert latest.text == "Text A, revised." and latest.justification == "Imported from a.md"
    again = import_markdown(ws, second, delegation="RU", slug=slug)
    assert again.items_added == [] and again.items_changed == []


def test_reimport_does_not_change_a_final_item(ws: Workspace, slug: str) -> None:
    ws.accept(slug, "1.1", delegation="RU")
    ws.set_status(slug, "1.1", Status.FINAL, actor="IN")
    ws.set_status(slug, "1.1", Status.FINAL, actor="RU")
    report = import_markdown(ws, "## Political & Strategic\n\n- Regional architecture\n  New.\n",
                             delegation="IN", slug=slug)
    assert report.refused and "final" in report.refused[0]
    assert ws.state(slug).current_text(ws.state(slug).item("1.1")).startswith("The Sides")


def test_a_failing_import_leaves_the_workspace_unchanged(ws: Workspace, slug: str) -> None:
    before = [(i.title, i.status) for i in ws.state(slug).items]
    with pytest.raises(AgendaError):
        import_markdown(ws, "## Health\n\n- Vaccines\n\n## Trade\n\n- Big\n  " + "x" * 1_100_000,
                        delegation="IN", slug=slug)
    with pytest.raises(AgendaError, match="No delegation"):
        import_markdown(ws, "## Health\n\n- Vaccines\n", delegation="XX", slug=slug)
    state = ws.state(slug)
    assert [(i.title, i.status) for i in state.items] == before
    assert [s.title for s in state.summit.sections] == ["Political & Strategic", "Connectivity",
                                                         "Health"]


# Starters ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bilateral-annual-summit", "trilateral", "ministerial-jwg"])
def test_starters_import_cleanly(ws: Workspace, name: str) -> None:
    sections, items = starter_sections(name)
    assert len(sections) >= 4 and len(items) >= 8
    report = new_summit_from_starter(ws, name, f"Summit from {name}", SIDES, slug=name)
    state = ws.state(name)
    assert [s.title for s in state.summit.sections] == sections
    assert [i.title for i in state.items] == [i.title for i in items]
    assert all(r.delegation == "IN" for i in state.items for r in state.tabled(i))
    assert [n.kind for n in report.notes if n.kind != "items"] == ["title", "preamble"]
    assert all("taken as" in n.reason for n in report.notes if n.kind == "items")


def test_unknown_starter(ws: Workspace) -> None:
    with pytest.raises(AgendaError, match="No starter agenda 'x'.*trilateral"):
        starter_sections("x")
    with pytest.raises(AgendaError, match="not a starter agenda name"):
        starter_sections("../starters/trilateral")


# CLI -----------------------------------------------------------------------------------------

def test_cli_import_errors_leave_the_workspace_unchanged(
        ws: Workspace, slug: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(ws.path)
    binary = tmp_path / "photo.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary")
    nul = tmp_path / "nul.md"
    nul.write_bytes(b"# T\n\x00\x00\n")
    good = tmp_path / "good.md"
    good.write_text("## Health\n\n- Vaccines\n")
    before = ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())
    cases = [
        (["import", str(binary), "--as", "IN"], 1, "is not UTF-8 text"),
        (["import", str(nul), "--as", "IN"], 1, "NUL bytes"),
        (["import", str(tmp_path / "missing.md"), "--as", "IN"], 1, "Cannot read"),
        (["import", str(good)], 2, "needs --as"),
        (["import", str(good), "--as", "IN", "--title", "New"], 2, "--delegation"),
        (["import", str(good), "--as", "IN", "--summit", "nope"], 1, "No summit 'nope'"),
        (["import", str(good), "--as", "IN", "--title", "N", "--delegation", "IN=India"], 1,
         "at least two delegations"),
        (["import", str(good), "--as", "IN", "--delegation", "bad"], 2, "not CODE=Name"),
    ]
    for argv, code, message in cases:
        assert run([*argv, "--db", db]) == code, argv
        assert message in capsys.readouterr().err, argv
    assert (ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())) \
        == before


def test_cli_import_json_report(ws: Workspace, slug: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "a.md"
    source.write_text("Loose line.\n\n## Health\n\n- Vaccines\n  Text.\n", encoding="utf-8")
    assert run(["import", str(source), "--db", str(ws.path), "--as", "ru", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"added": [\n      "3.1 Vaccines"' in out and '"line": 1' in out


# Properties ----------------------------------------------------------------------------------

WORD = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=1, max_size=8)


@st.composite
def inline(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(
        WORD, WORD.map(lambda w: f"*{w}*"), WORD.map(lambda w: f"**{w}**"),
        WORD.map(lambda w: f"_{w}_"), WORD.map(lambda w: f"`{w}`"),
        st.tuples(WORD, WORD).map(lambda p: f"[{p[0]}](https://{p[1]}.org)"),
        WORD.map(lambda w: f"<!-- {w} -->"), WORD.map(lambda w: f"<b>{w}</b>"),
        st.sampled_from(["1.", "2.3", "|", "&", "[", "]", "\\*", "#"]),
    ), min_size=1, max_size=5))
    return " ".join(parts)


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["atx", "setext", "para", "ul", "ol", "nested", "table", "fence",
                                 "open_fence", "comment", "open_comment", "quote", "hr", "ref",
                                 "indented", "html", "blank", "bold", "timed", "key",
                                 "html_table", "label"]))
    text = draw(inline())
    if kind == "atx":
        return f"{'#' * draw(st.integers(1, 6))} {text}"
    if kind == "setext":
        return f"{text}\n{draw(st.sampled_from(['===', '---']))}"
    if kind == "para":
        return f"{text}\n{draw(inline())}"
    if kind in ("ul", "ol"):
        marker = "-" if kind == "ul" else "1."
        lines = draw(st.lists(inline(), min_size=1, max_size=4))
        return "\n".join(f"{marker} {line}" for line in lines)
    if kind == "nested":
        return f"1. {text}\n   - {draw(inline())}\n     1. {draw(inline())}\n\n   {draw(inline())}"
    if kind == "table":
        return f"| {text} | b |\n| --- | --- |\n| 1 | {draw(inline())} |"
    if kind == "fence":
        return f"```\n{text}\n# not a heading\n```"
    if kind == "open_fence":
        return f"~~~\n{text}"
    if kind == "comment":
        return f"<!--\n{text}\n-->"
    if kind == "open_comment":
        return f"<!-- {text}"
    if kind == "quote":
        return f"> {text}\n> # quoted heading"
    if kind == "hr":
        return "***"
    if kind == "ref":
        return f"[{draw(WORD)}]: https://example.org/{draw(WORD)}"
    if kind == "indented":
        return f"    code {text}"
    if kind == "html":
        return f"<div>\n{text}\n</div>"
    if kind == "bold":
        return f"**{draw(WORD)} {draw(WORD)}**"
    if kind == "timed":
        return f"09:00 {text}\n10:30-11:00 {draw(inline())}"
    if kind == "key":
        return f"**{draw(st.sampled_from(['Host', 'Dates', 'Where', 'Note']))}**: {text}"
    if kind == "html_table":
        return (f"<table>\n<tr><th>Topic</th><th>Lead</th></tr>\n"
                f"<tr><td>{draw(WORD)}</td><td>{draw(WORD)}</td></tr>\n</table>")
    if kind == "label":
        return f"{draw(st.sampled_from(['Attendees', 'Present', 'Links', 'We will discuss']))}:"
    return ""


@st.composite
def documents(draw: st.DrawFn) -> str:
    front = draw(st.sampled_from(["", "---\ntitle: T\nvenue: V\n---\n", "---\nnot: closed\n"]))
    blocks = draw(st.lists(block(), max_size=14))
    separators = draw(st.lists(st.sampled_from(["\n\n", "\n"]), min_size=len(blocks),
                               max_size=len(blocks)))
    return front + "".join(b + s for b, s in zip(blocks, separators, strict=True))


def accounted_lines(parsed: ParsedAgenda) -> set[int]:
    """0-based lines that an item, a section heading or a note of the report accounts for."""
    lines: set[int] = set()
    for item in parsed.items:
        lines.update(range(*item.span))
    for section in parsed.sections:
        lines.update(range(*section.span))
    for note in parsed.notes:
        lines.update(range(note.line - 1, note.end))
    return lines


def assert_nothing_lost(source: str, parsed: ParsedAgenda) -> None:
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    missing = [n + 1 for n, line in enumerate(lines)
               if line.strip() and n not in accounted_lines(parsed)]
    assert not missing, f"lines {missing} are in no item, section or note"
    kept = " ".join([*(i.title for i in parsed.items), *(i.text for i in parsed.items),
                     *(s.title for s in parsed.sections), *(n.text for n in parsed.notes),
                     parsed.title or ""])
    # Digits alone may be list or heading numbering, which is structure: the agenda numbers
    # its items itself.
    words = {w for w in re.findall(r"[A-Za-z0-9]+", source) if not w.isdigit()}
    lost = {w for w in words if w not in kept}
    assert not lost, f"words {lost} are nowhere in the result"


@given(documents())
def test_structured_markdown_is_outlined_without_loss(source: str) -> None:
    parsed = parse_markdown(source)
    assert_nothing_lost(source, parsed)
    for item in parsed.items:
        assert item.title.strip() and item.text.strip()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_any_text_is_outlined_without_loss(source: str) -> None:
    parsed = parse_markdown(source)
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    accounted = accounted_lines(parsed)
    assert all(n in accounted for n, line in enumerate(lines) if line.strip())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_document_imports_into_a_new_summit(source: str) -> None:
    parsed = parse_markdown(source)
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder) / "w.json", create=True)
        try:
            if not parsed.items:
                with pytest.raises(AgendaError, match="no agenda items"):
                    import_markdown(ws, source, delegation="IN", title="Imported",
                                    delegations=SIDES, new_slug="imported")
                assert ws.summits() == []
                return
            report = import_markdown(ws, source, delegation="IN", title="Imported",
                                     delegations=SIDES, new_slug="imported")
            state = ws.state("imported")
            assert len(state.items) == len(parsed.items) == len(report.items_added)
            assert state.summit.preamble == parsed.preamble
            again = import_markdown(ws, source, delegation="RU", slug="imported")
            assert not again.items_added and not again.items_changed
            assert not again.items_moved and not again.items_missing
            assert not again.items_retitled
        finally:
            ws.close()
