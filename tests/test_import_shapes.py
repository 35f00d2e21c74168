"""Import, one agenda shape at a time: lists then sub-headings, topic tables (pipe and HTML),
meeting details (key lines, key lists, front matter), titles, lists that are not the agenda,
brackets and reference links, nested lists and --depth."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import cli, export
from agenda.brackets import bracket_count
from agenda.import_shapes import NO_TEXT, front_matter, shorten
from agenda.importer import ParsedAgenda, import_markdown, parse_markdown
from agenda.model import Delegation, Status
from agenda.workspace import Workspace

SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]


def items(parsed: ParsedAgenda) -> list[tuple[str, str]]:
    return [(i.section, i.title) for i in parsed.items]


def run(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# Structure -----------------------------------------------------------------------------------

def test_a_numbered_agenda_followed_by_sub_headings_keeps_both() -> None:
    parsed = parse_markdown(
        "# Summit\n\n## Agenda\n\n1. Opening\n2. Trade\n   Text of trade.\n3. Closure\n\n"
        "Loose paragraph after the list.\n\n### Schedule constraints\n\nNone.\n\n"
        "### Notes\n\n> quoted\n")
    assert items(parsed) == [("Agenda", "Opening"), ("Agenda", "Trade"), ("Agenda", "Closure"),
                             ("Agenda", "Schedule constraints"), ("Agenda", "Notes")]
    texts = [i.text for i in parsed.items]
    assert texts[0] == NO_TEXT and texts[1] == "Text of trade."
    # A paragraph between items belongs to the item before it.
    assert texts[2] == "Loose paragraph after the list."
    assert texts[3] == "None." and texts[4] == "> quoted"


def test_text_before_the_first_item_is_the_sections_text_in_the_preamble() -> None:
    parsed = parse_markdown("# S\n\n## Energy\n\nThe session is chaired by RU.\n\n- Oil\n- Gas\n")
    assert items(parsed) == [("Energy", "Oil"), ("Energy", "Gas")]
    assert parsed.preamble == "# Energy\n\nThe session is chaired by RU."
    assert any(n.kind == "preamble" and "before its first item" in n.reason
               for n in parsed.notes)


def test_nested_entries_stay_in_the_text_cleanly_dedented() -> None:
    source = "## A\n\n1. Opening\n    1. Welcome\n    1. Roll call\n        - detail\n2. Close\n"
    parsed = parse_markdown(source)
    assert items(parsed) == [("A", "Opening"), ("A", "Close")]
    assert parsed.items[0].text == "1. Welcome\n1. Roll call\n    - detail"


def test_depth_makes_nested_entries_items() -> None:
    source = "## A\n\n1. Opening\n    1. Welcome\n    1. Roll call\n        - detail\n2. Close\n"
    parsed = parse_markdown(source, depth=2)
    assert [t for _, t in items(parsed)] == ["Opening", "Welcome", "Roll call", "Close"]
    assert parsed.items[0].text == NO_TEXT
    assert parsed.items[2].text == "- detail"
    assert [t for _, t in items(parse_markdown(source, depth=3))] == \
        ["Opening", "Welcome", "Roll call", "detail", "Close"]


def test_topic_table_rows_become_items_named_by_the_header() -> None:
    parsed = parse_markdown(
        "## Day 1\n\n| Time | Topic | Presenter |\n|---|---|---|\n"
        "| 09:00 | Opening | Chair |\n| 09:10 | [Signatures](https://ex.org/sig) | Ann |\n"
        "| 10:00 | Break | |\n")
    assert items(parsed) == [("Day 1", "Opening"), ("Day 1", "Signatures"), ("Day 1", "Break")]
    assert parsed.items[0].text == "- **Time**: 09:00\n- **Presenter**: Chair"
    assert parsed.items[1].text == ("- **Topic**: [Signatures](https://ex.org/sig)\n"
                                    "- **Time**: 09:10\n- **Presenter**: Ann")
    assert parsed.items[2].text == "- **Time**: 10:00"
    assert any(n.kind == "items" and "header" in n.reason for n in parsed.notes)


def test_a_table_of_figures_is_no_agenda() -> None:
    parsed = parse_markdown("## Perf\n\n- Summary\n\n| run | mean | count |\n|---|---|---|\n"
                            "| Regressions | 0.3% | 3 |\n| Improvements | -0.2% | 7 |\n")
    assert items(parsed) == [("Perf", "Summary")]
    assert "| Regressions | 0.3% | 3 |" in parsed.items[0].text


def test_html_table_rows_become_items() -> None:
    parsed = parse_markdown(
        "## Schedule\n\n<table>\n<tr><th>Slot</th><th>Session</th><th>Lead</th></tr>\n"
        "<tr><td>1</td><td>Opening <b>remarks</b></td><td>Chair</td></tr>\n"
        "<tr><td>2</td><td><a href=\"https://ex.org/t\">Trade</a></td><td>IN</td></tr>\n"
        "</table>\n")
    assert items(parsed) == [("Schedule", "Opening remarks"), ("Schedule", "Trade")]
    assert parsed.items[0].text == "- **Slot**: 1\n- **Lead**: Chair"
    assert parsed.items[1].text.startswith("- **Session**: [Trade](https://ex.org/t)")


# Meeting details -----------------------------------------------------------------------------

def test_bold_key_lines_fill_the_details_and_the_rest_is_the_preamble() -> None:
    parsed = parse_markdown(
        "# Annual Summit\n\n**Host**: India\n**Dates**: 1–2 March 2021\n**Location**: "
        "[Hyderabad House](https://ex.org/hh), New Delhi\n\nDraft of the host.\n\n## Trade\n\n"
        "- Targets\n")
    assert parsed.title == "Annual Summit"
    assert parsed.details == {"host": "India", "dates": "1–2 March 2021",
                              "venue": "Hyderabad House (https://ex.org/hh), New Delhi"}
    assert parsed.preamble == "Draft of the host."


def test_a_key_list_under_a_heading_that_reads_as_a_title() -> None:
    parsed = parse_markdown(
        "![logo](/logo.png)\n\n## Agenda for the May meeting of the Group\n\n"
        "- **Where**: zoom.us\n- **When**: May 30, 4pm UTC\n- **Contact**: chair@ex.org\n\n"
        "### Registration\n\nNone required.\n\n## Logistics\n\nOn video.\n\n## Agenda items\n\n"
        "1. Opening\n")
    assert parsed.title == "Agenda for the May meeting of the Group"
    assert parsed.details == {"venue": "zoom.us", "dates": "May 30, 4pm UTC"}
    assert parsed.section_titles == ["Agenda items"]
    assert parsed.preamble == ("![logo](/logo.png)\n\n- **Contact**: chair@ex.org\n\n"
                               "# Registration\n\nNone required.\n\n# Logistics\n\nOn video.")


@pytest.mark.parametrize("head", [
    "---\ntitle: Summit\ndates: 1-2 March\nlocation: Delhi\nhost: India\ntags: [a, b]\n---\n",
    "---\ntitle: 'Summit'\ndate: \"1-2 March\"\nvenue: Delhi\nhosts:\n  - India\ntags:\n  - a\n"
    "  - b\n---\n",
    "---\ntitle: Summit\nwhen: 1-2 March\nwhere: Delhi\norganizer: India\ntags: a, b\n...\n",
])
def test_front_matter_in_each_form(head: str) -> None:
    parsed = parse_markdown(head + "\n## Trade\n\n- Targets\n")
    assert parsed.title == "Summit"
    assert parsed.details == {"dates": "1-2 March", "venue": "Delhi", "host": "India"}
    assert parsed.preamble == "- **tags**: a, b"
    assert ("title", 2) in {(n.kind, n.line) for n in parsed.notes}


def test_front_matter_without_an_end_is_text() -> None:
    assert front_matter(["---", "title: x"]) == ({}, 0)


def test_details_and_preamble_reach_the_summit_and_its_export(ws: Workspace) -> None:
    source = ("# Annual Summit\n\n**Host**: India\n**Dates**: 1–2 March\n**Venue**: Delhi\n\n"
              "Circulated by the host.\n\n## Present\n\n* Ann Lee\n* Bo Chan\n\n## Trade\n\n"
              "- Targets\n")
    report = import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="s")
    summit = ws.summit("s")
    assert (summit.title, summit.host, summit.dates, summit.venue) == \
        ("Annual Summit", "India", "1–2 March", "Delhi")
    assert summit.preamble == "Circulated by the host.\n\n# Present\n\n* Ann Lee\n* Bo Chan"
    assert report.items_added == ["1.1 Targets"]
    markdown = export.render(ws, "s", "agenda")
    assert "- **Host:** India" in markdown and "- **Venue:** Delhi" in markdown
    assert "Circulated by the host.\n\n### Present\n\n* Ann Lee" in markdown
    assert markdown.index("### Present") < markdown.index("## 1. Trade")


def test_details_change_on_reimport(ws: Workspace) -> None:
    source = "# S\n\n**Host**: India\n\nIntro.\n\n## Trade\n\n- Targets\n"
    import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="s")
    report = import_markdown(ws, source.replace("India", "Russia").replace("Intro", "Outro"),
                             delegation="IN", slug="s")
    assert report.details_changed == ["host", "preamble"]
    summit = ws.summit("s")
    assert (summit.host, summit.preamble) == ("Russia", "Outro.")
    assert any(e.action == "summit.details" for e in ws.state("s").events)


# Titles ----------------------------------------------------------------------------------------

def test_titles_are_link_text_without_html_and_the_url_stays_in_the_text() -> None:
    parsed = parse_markdown(
        "## A\n\n- [Relaxed SIMD](https://ex.org/rs) update (Ann) <time:2023>\n"
        "- <https://ex.org/pr/14> - refine the rules\n- <b>Bold</b> &amp; plain\n")
    assert [t for _, t in items(parsed)] == ["Relaxed SIMD update (Ann) time:2023",
                                             "refine the rules", "Bold & plain"]
    assert parsed.items[0].text == "[Relaxed SIMD](https://ex.org/rs) update (Ann) <time:2023>"
    assert parsed.items[1].text.startswith("<https://ex.org/pr/14>")
    assert parsed.items[2].text == "<b>Bold</b> &amp; plain"


def test_long_titles_are_shortened_at_a_boundary_with_the_full_wording_in_the_text() -> None:
    sentence = ("Reminder: if you see a PR with legal implications, please let the Core team "
                "know. Or message the leads, who will pass it along to the right people soon.")
    parsed = parse_markdown(f"## A\n\n- {sentence}\n")
    title = parsed.items[0].title
    assert len(title) <= 120 and title.endswith("know.")
    assert parsed.items[0].text == sentence
    assert shorten("word " * 40).endswith("…") and len(shorten("word " * 40)) <= 121
    assert shorten("a" * 300) == "a" * 119 + "…"
    assert shorten("Opening remarks by the chair of the meeting, " + "x" * 200) == \
        "Opening remarks by the chair of the meeting…"


@given(st.text(alphabet="abc ,.;:-", min_size=1, max_size=400))
def test_a_shortened_title_is_a_prefix_of_the_full_one(title: str) -> None:
    short = shorten(title)
    assert len(short) <= 121
    assert title.startswith(short.removesuffix("…").rstrip(" ,;:"))


def test_items_without_their_own_text_say_so(ws: Workspace) -> None:
    import_markdown(ws, "## A\n\n- Opening\n", delegation="IN", delegations=SIDES,
                    new_slug="s", title="S")
    state = ws.state("s")
    assert state.current_text(state.items[0]) == NO_TEXT


def test_a_file_without_a_title_takes_its_file_name(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "board_meeting-2024.md"
    source.write_text("## Budget\n\n- Approve\n\n## Hiring\n\n- Plan\n", encoding="utf-8")
    assert run(["import", str(source), "--db", str(tmp_path / "w.json"), "--as", "IN",
                "--delegation", "IN=India", "--delegation", "RU=Russia"]) == 0
    assert Workspace(tmp_path / "w.json").summits()[0].title == "board meeting-2024"


# Not every list is the agenda ----------------------------------------------------------------

def test_attendees_links_and_logistics_are_kept_as_text_not_items() -> None:
    parsed = parse_markdown(
        "# Minutes\n\n## Links\n\n* **Recording**: <https://ex.org/v>\n* **Issue**: "
        "<https://ex.org/i>\n\n## Present\n\n* Ann Lee @ann (TSC)\n* Bo Chan\n\n## Agenda\n\n"
        "* Budget\n* Hiring\n\n## Minutes\n\n### Attendees\n\n* Ann Lee\n* Bo Chan\n* Cy Dee\n"
        "* Ed Fox\n\n### Discussion\n\n* Agreed.\n\n## Related documents\n\n"
        "* [Draft 1](https://ex.org/1)\n* [Draft 2](https://ex.org/2)\n")
    assert items(parsed) == [("Agenda", "Budget"), ("Agenda", "Hiring"),
                             ("Minutes", "Discussion")]
    for words in ("**Recording**", "Ann Lee @ann (TSC)", "## Attendees", "[Draft 2]"):
        assert words in parsed.preamble
    reasons = " ".join(n.reason for n in parsed.notes)
    assert "attendee list" in reasons and "has no agenda items" in reasons


def test_a_list_of_names_is_not_the_agenda() -> None:
    parsed = parse_markdown("## Who\n\n- Ann Lee @ann\n- Bo Chan (IN)\n- Cy Dee, RU\n"
                            "- Ed Fox\n\n## Topics\n\n- Budget\n")
    assert items(parsed) == [("Topics", "Budget")]
    # Title Case entries without handles or affiliations are an agenda.
    titled = parse_markdown("## Day 1\n\n- Opening Remarks\n- Trade Relations\n"
                            "- Energy Security\n- Closing Ceremony\n")
    assert len(titled.items) == 4
    assert any(n.kind == "preamble" and "names" in n.reason for n in parsed.notes)


def test_bold_key_items_in_a_section_are_agenda_entries() -> None:
    parsed = parse_markdown("## Discussion\n\n* **Release cycle**: time based releases?\n"
                            "* **Website**, Mikeal: there is one.\n")
    assert [t for _, t in items(parsed)] == ["Release cycle: time based releases?",
                                             "Website, Mikeal: there is one."]


# Brackets --------------------------------------------------------------------------------------

def test_markdown_brackets_never_count_and_reference_links_keep_working() -> None:
    parsed = parse_markdown(
        "## A\n\n- Fix lowering [#69128]\n  - [ ] check the box\n  - See[^1] and ![img](x.png)"
        "\n\n## B\n\n- Other business, see [text][ref]\n\n[#69128]: https://ex.org/69128\n"
        "[ref]: https://ex.org/ref\n[^1]: A footnote.\n")
    first, second = parsed.items
    assert first.title == "Fix lowering #69128" and second.title == "Other business, see text"
    assert first.text.endswith("[#69128]: https://ex.org/69128\n[^1]: A footnote.") or \
        first.text.endswith("[^1]: A footnote.\n[#69128]: https://ex.org/69128")
    assert "\\[ \\] check the box" in first.text
    assert second.text == "Other business, see [text][ref]\n\n[ref]: https://ex.org/ref"
    assert bracket_count(first.text) == 0 and bracket_count(second.text) == 0
    assert parsed.bracketed == 0
    assert any(n.kind == "metadata" and "link definitions" in n.reason for n in parsed.notes)


def test_literal_brackets(ws: Workspace) -> None:
    source = "## A\n\n- Relaxed SIMD [15 min]\n  Stage [Pre-REC], see [x](https://ex.org).\n"
    report = import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="s",
                             title="S")
    assert report.bracketed == 1
    assert ws.state("s").items[0].status == Status.BRACKETED
    literal = parse_markdown(source, literal_brackets=True)
    assert literal.items[0].text == "Stage \\[Pre-REC\\], see [x](https://ex.org)."
    assert literal.bracketed == 0
    report = import_markdown(ws, source, delegation="IN", delegations=SIDES, new_slug="t",
                             title="T", literal_brackets=True)
    assert report.bracketed == 0 and ws.state("t").items[0].status == Status.PROPOSED


def test_cli_import_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "a.md"
    source.write_text("# S\n\n## A\n\n1. One [15 min]\n   Stage [Pre-REC].\n   1. Nested\n",
                      encoding="utf-8")
    db = str(tmp_path / "w.json")
    base = ["import", str(source), "--db", db, "--as", "IN"]
    assert run([*base, "--delegation", "IN=India", "--delegation", "RU=Russia",
                "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 added" in out and "1 item starts bracketed" in out
    assert run([*base, "--depth", "0"]) == 2
    assert "not a depth" in capsys.readouterr().err
    empty = tmp_path / "empty.md"
    empty.write_text("Just words.\n", encoding="utf-8")
    before = Path(db).read_bytes()
    assert run(["import", str(empty), "--db", db, "--as", "IN"]) == 1
    assert "no agenda items" in capsys.readouterr().err
    assert Path(db).read_bytes() == before


LINKS = st.from_regex(r"[a-z &]{0,5}(!?\[[a-z *]{0,4}\]\([a-z:/. ]{0,6}\)[a-z ]{0,4}){1,3}",
                     fullmatch=True)


# Bracketed phrases beside links and loose brackets: the fast path's `brackets` case.
PHRASES = st.from_regex(r"([a-z ,]{0,4}(\[[a-z ^]{0,4}\]|\[[a-z]{0,2}\]\([a-z]{0,2}\)|[\[\]():]))"
                        r"{1,5}[a-z ]{0,3}", fullmatch=True)


@settings(max_examples=400)
@given(st.one_of(st.text(alphabet="ab [](): /.#-\\*_`<>!&~", max_size=40), LINKS, PHRASES))
def test_the_fast_title_path_reads_as_markdown_it_does(line: str) -> None:
    from agenda.import_shapes import _INLINE, _simple_tokens, inline_tokens, plain

    line = line.strip()
    parsed = _INLINE.parseInline(line)
    slow = plain(list(parsed[0].children or []) if parsed else [])
    assert plain(inline_tokens(line)) == slow
    for brackets in (False, True):
        fast = _simple_tokens(line, brackets=brackets)
        if fast is not None:
            assert [(t.type, t.attrGet("href"), t.content) for t in fast] == \
                [(t.type, t.attrGet("href"), t.content) for t in parsed[0].children or []
                 if t.type in ("link_open", "link_close") or t.content]


def test_a_document_without_sections_has_details_a_preamble_and_items() -> None:
    parsed = parse_markdown("**Host**: India\n\n- **Dates**: 1 March\n- **Venue**: Delhi\n\n"
                            "Draft of the host.\n\n1. Opening\n2. Trade\n   Targets.\n")
    assert parsed.details == {"host": "India", "dates": "1 March", "venue": "Delhi"}
    assert parsed.preamble == "Draft of the host."
    assert items(parsed) == [("General", "Opening"), ("General", "Trade")]


def test_a_lone_top_heading_over_sub_headings_is_a_section_when_it_must_be() -> None:
    parsed = parse_markdown("## Agenda\n\n### Opening\n\nWelcome.\n\n### Trade\n\nTargets.\n")
    assert parsed.title is None
    assert items(parsed) == [("Agenda", "Opening"), ("Agenda", "Trade")]
    titled = parse_markdown("# Summit\n\n## Agenda\n\n### Opening\n\nWelcome.\n")
    assert titled.title == "Summit" and items(titled) == [("Agenda", "Opening")]


def test_bold_lines_standing_alone_are_items() -> None:
    parsed = parse_markdown("# S\n\n## Minutes\n\n**1. Opening**\n\nThe chair opened.\n\n"
                            "**2. [Trade](https://ex.org/t):**\nTargets agreed.\n\n- a point\n\n"
                            "**Note**: not a heading, a key line.\n")
    assert items(parsed) == [("Minutes", "Opening"), ("Minutes", "Trade")]
    assert parsed.items[0].text == "The chair opened."
    assert parsed.items[1].text == ("**2. [Trade](https://ex.org/t):**\nTargets agreed.\n\n"
                                    "- a point\n\n**Note**: not a heading, a key line.")


def test_schedule_lines_without_list_markers_are_items() -> None:
    parsed = parse_markdown("## Day 1\n\n09:00 Opening\n09:15-10:00 – [Trade](https://ex.org)\n"
                            "1030 Break\n\nThe break is in the garden.\n")
    assert items(parsed) == [("Day 1", "Opening"), ("Day 1", "Trade"), ("Day 1", "Break")]
    assert parsed.items[0].text == "- **Time**: 09:00"
    assert parsed.items[1].text == "- **Time**: 09:15-10:00\n\n[Trade](https://ex.org)"
    assert parsed.items[2].text == "- **Time**: 1030\n\nThe break is in the garden."
    assert items(parse_markdown("## A\n\n2021 was a good year\nfor trade.\n")) == []


def test_the_line_above_a_list_says_what_it_is() -> None:
    parsed = parse_markdown("# S\n\n## Notes\n\nPresent:\n\n- Cy Dee\n- Ed Fox\n\n"
                            "We will discuss:\n\n- Budget\n- Hiring\n\n## Minutes\n\n"
                            "#### Attendees\n\n- Ann Lee\n- Bo Chan\n\n### Budget\n\nAgreed.\n")
    assert items(parsed) == [("Notes", "Budget"), ("Notes", "Hiring"), ("Minutes", "Budget")]
    assert "- Ann Lee" in parsed.preamble and "- Ed Fox" in parsed.preamble


def test_update_details_checks_each_field_and_logs_one_event(ws: Workspace) -> None:
    from agenda.model import AgendaError

    ws.create_summit("S", SIDES, slug="s", host="India", preamble="Intro.\n\nMore.")
    assert (ws.summit("s").host, ws.summit("s").preamble) == ("India", "Intro.\n\nMore.")
    before = ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())
    for bad in ({"host": "In\x1bdia"}, {"venue": "a\nb"}, {"preamble": "x\x00"},
                {"title": " "}):
        with pytest.raises(AgendaError):
            ws.update_details("s", actor="IN", **bad)
    with pytest.raises(AgendaError):
        ws.create_summit("T", SIDES, slug="t", dates="1\n2")
    assert (ws.path.read_bytes(), sorted(p.read_bytes() for p in ws.summits_dir.iterdir())) \
        == before
    ws.update_details("s", title="S2", venue="Delhi", host="", actor="IN")
    summit = ws.summit("s")
    assert (summit.title, summit.venue, summit.host, summit.preamble) == \
        ("S2", "Delhi", "", "Intro.\n\nMore.")
    assert ws.summits()[0].title == "S2" and ws.summits()[0].venue == "Delhi"
    events = [e for e in ws.state("s").events if e.action == "summit.details"]
    assert len(events) == 1 and events[0].actor == "IN"
