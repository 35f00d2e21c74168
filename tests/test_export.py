"""Export: golden documents of the demo, no leaks, safe HTML, structure, escaping, CLI.

Golden files live in tests/golden/; regenerate them on purpose with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from scenarios import count_merges

from agenda import cli, export, markdown, paths, templates
from agenda.demo import DEMO_SLUG, build_demo
from agenda.diff import diff_words
from agenda.diff_render import render_critic
from agenda.model import AgendaError, Code, Delegation
from agenda.text import document_safe
from agenda.workspace import Workspace

GOLDEN = Path(__file__).parent / "golden"
JOINT = ("agenda", "negotiating-text", "redline")
TRICKY_TITLE = "# [x] | *y* <b>"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 once, and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def run(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# Golden documents ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kwargs"), [
    ("agenda", {}),
    ("negotiating-text", {}),
    ("redline", {}),
    ("redline-since", {"template": "redline", "since": "2021-03-03"}),
    ("brief-IN", {"template": "brief", "viewer": "IN"}),
    ("brief-RU", {"template": "brief", "viewer": "RU"}),
])
def test_golden_markdown(demo: Workspace, name: str, kwargs: dict[str, str]) -> None:
    template = kwargs.pop("template", name)
    text = export.render(demo, DEMO_SLUG, template, **kwargs)  # type: ignore[arg-type]
    check_golden(f"demo-{name}.md", text)


def test_golden_html(demo: Workspace) -> None:
    check_golden("demo-negotiating-text.html",
                 export.render(demo, DEMO_SLUG, "negotiating-text", fmt="html"))


def test_rendering_is_stable(demo: Workspace) -> None:
    first = export.render(demo, DEMO_SLUG, "negotiating-text")
    assert export.render(demo, DEMO_SLUG, "negotiating-text") == first


# No leaks --------------------------------------------------------------------------------------

@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Workspace, dict[str, set]]:
    """The demo with a unique marker in every internal draft (text and why) and every note,
    plus one more draft and note per delegation."""
    markers: dict[str, set[str]] = {"IN": set(), "RU": set()}
    table, add_note = Workspace.table, Workspace.add_note

    def mark(code: str) -> str:
        marker = f"ZQMARK{code}{len(markers[code.upper()]):03d}X"
        markers[code.upper()].add(marker)
        return marker

    def planted_table(self, slug, item_ref, *, delegation, text=None, code=Code.MOD, why="",
                      internal=False):
        if internal:
            text = f"{text} {mark(delegation)}"
            why = f"{why} {mark(delegation)}"
        return table(self, slug, item_ref, delegation=delegation, text=text, code=code, why=why,
                     internal=internal)

    def planted_note(self, slug, item_ref, *, delegation, text):
        return add_note(self, slug, item_ref, delegation=delegation, text=f"{text} "
                        f"{mark(delegation)}")

    monkeypatch.setattr(Workspace, "table", planted_table)
    monkeypatch.setattr(Workspace, "add_note", planted_note)
    path = tmp_path / "demo.json"
    build_demo(Workspace(path, create=True))
    ws = Workspace(path)
    for code, item in (("IN", "4.2"), ("RU", "5.2")):
        ws.table(DEMO_SLUG, item, delegation=code, text="A fallback text.", internal=True,
                 why="Extra")
        ws.add_note(DEMO_SLUG, item, delegation=code, text="An extra note.")
    monkeypatch.undo()
    assert all(len(m) >= 4 for m in markers.values()), markers
    return ws, markers


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", JOINT)
@pytest.mark.parametrize("viewer", [None, "IN", "RU"])
def test_joint_exports_never_contain_internal_material(
        planted: tuple[Workspace, dict[str, set[str]]], template: str, fmt: str,
        viewer: str | None) -> None:
    ws, markers = planted
    text = export.render(ws, DEMO_SLUG, template, fmt=fmt, viewer=viewer)  # type: ignore[arg-type]
    leaked = [m for code in markers for m in markers[code] if m in text]
    assert not leaked
    assert "ZQMARK" not in text


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(("own", "other"), [("IN", "RU"), ("RU", "IN")])
def test_brief_has_own_internal_material_only(
        planted: tuple[Workspace, dict[str, set[str]]], own: str, other: str, fmt: str) -> None:
    ws, markers = planted
    text = export.render(ws, DEMO_SLUG, "brief", viewer=own, fmt=fmt)  # type: ignore[arg-type]
    assert all(m in text for m in markers[own])
    assert not any(m in text for m in markers[other])


def test_brief_without_a_delegation_is_refused(demo: Workspace) -> None:
    with pytest.raises(AgendaError, match="--as CODE"):
        export.render(demo, DEMO_SLUG, "brief")


def test_a_joint_template_refuses_a_delegation_state(demo: Workspace) -> None:
    with pytest.raises(AgendaError, match="joint"):
        export.render_state(demo.state(DEMO_SLUG, "IN"), templates.find_template("agenda"))


# Safe HTML ------------------------------------------------------------------------------------

HOSTILE = """Hello <script>alert(1)</script> and <img src=x onerror=alert(2)>.

[js](javascript:alert(3)) [JS](JaVaScRiPt:alert(4)) [data](data:text/html,<b>x</b>)
[file](file:///etc/passwd) [vb](vbscript:msgbox) <javascript:alert(5)>
[web](https://example.org/a) [plain](http://example.org) [mail](mailto:desk@example.org)
![pic](data:image/png;base64,AAAA)

<div onclick="alert(6)">raw block</div>

| a | b |
| --- | --- |
| ~~old~~ | new |
"""


@pytest.fixture
def hostile(ws: Workspace) -> str:
    entry = ws.create_summit("Summit <b>bold</b> & co", [Delegation("IN", "India"),
                                                          Delegation("RU", "Russia")],
                             sections=["Political", "Trade"])
    ws.add_item(entry.slug, section="Political", title=TRICKY_TITLE, delegation="IN",
                text=HOSTILE)
    ws.add_item(entry.slug, section="Trade", title="Headings inside", delegation="RU",
                text="# A heading of the text\n\nBody.\n\n```\nan unclosed fence\n## not a "
                     "heading")
    ws.add_item(entry.slug, section="Trade", title="After the fence", delegation="RU",
                text="<!-- an unclosed comment\n\n### still inside")
    ws.add_item(entry.slug, section="Trade", title="Last", delegation="IN", text="Plain.")
    return entry.slug


@pytest.mark.parametrize("template", JOINT)
def test_html_is_inert_and_links_are_safe(ws: Workspace, hostile: str, template: str) -> None:
    page = export.render(ws, hostile, template, fmt="html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "@media print" in page
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert not re.search(r"<[^>]*\son\w+=", page), "an event handler attribute got through"
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs, "safe links should stay links"
    assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs)
    assert "&lt;script&gt;" in page
    assert "<title>Summit &lt;b&gt;bold&lt;/b&gt; &amp; co</title>" in page


def test_html_has_tables_and_strikethrough(ws: Workspace, hostile: str) -> None:
    page = export.render(ws, hostile, "agenda", fmt="html")
    assert "<table>" in page and "<s>old</s>" in page


def test_redline_html_shows_insertions_and_deletions(demo: Workspace) -> None:
    page = export.render(demo, DEMO_SLUG, "redline", fmt="html")
    assert "<ins>" in page and "<del>" in page and "{++" not in page.split("<main>")[1].replace(
        "<code>{++added++}</code>", "")


@pytest.mark.parametrize("url", ["javascript:x", "JAVASCRIPT:x", " data:x", "file:///x",
                                 "vbscript:x"])
def test_unsafe_schemes(url: str) -> None:
    assert not export.safe_link(url)


@pytest.mark.parametrize("url", ["https://a.org", "http://a.org", "mailto:a@b.org", "#part",
                                 "notes/x.md"])
def test_safe_schemes(url: str) -> None:
    assert export.safe_link(url)


# Structure and escaping ------------------------------------------------------------------------

_PARSER = MarkdownIt("commonmark").enable("table")


def outline(markdown: str) -> list[tuple[int, str]]:
    tokens = _PARSER.parse(markdown)
    return [(int(t.tag[1]), "".join(c.content for c in tokens[i + 1].children or []))
            for i, t in enumerate(tokens) if t.type == "heading_open" and t.level == 0]


def blocks_between_headings(markdown: str) -> list[int]:
    """How many top-level blocks follow each top-level heading before the next one."""
    counts: list[int] = []
    for token in _PARSER.parse(markdown):
        if token.level != 0 or token.nesting < 0:
            continue
        if token.type == "heading_open":
            counts.append(0)
        elif counts:
            counts[-1] += 1
    return counts


@pytest.mark.parametrize("template", [*JOINT, "brief"])
@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_markdown_parses_into_the_structure_it_claims(
        demo: Workspace, ws: Workspace, hostile: str, template: str, which: str) -> None:
    workspace, slug = (demo, DEMO_SLUG) if which == "demo" else (ws, hostile)
    state = workspace.state(slug)
    text = export.render(workspace, slug, template, viewer="IN" if template == "brief" else None)
    heads = outline(text)
    assert [h for h in heads if h[0] == 1] == [heads[0]]
    assert heads[0][1].startswith(state.summit.title)
    sections = [f"{n}. {s.title}" for n, s in enumerate(state.summit.sections, start=1)]
    assert [t for level, t in heads if level == 2] == sections
    items = [f"{i.number} {i.title}" for i in state.items]
    assert [t for level, t in heads if level == 3] == items
    # Under each item heading: at least one block (metadata or text) before the next heading.
    levels = [level for level, _ in heads]
    counts = blocks_between_headings(text)
    assert all(c >= 1 for level, c in zip(levels, counts, strict=True) if level == 3)


def test_tricky_title_is_inert_in_headings_and_cells(ws: Workspace, hostile: str) -> None:
    text = export.render(ws, hostile, "negotiating-text")
    assert (3, f"1.1 {TRICKY_TITLE}") in outline(text)
    tokens = _PARSER.parse(text)
    rows, row = [], []
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            row = []
        elif token.type in ("td_open", "th_open"):
            row.append("".join(c.content for c in tokens[i + 1].children or []))
        elif token.type == "tr_close":
            rows.append(row)
        elif token.type == "table_close":
            break  # the summary table; the item's own table comes later
    assert rows[0] == ["Item", "Title", "Status", "Brackets", "Positions"]
    assert ["1.1", TRICKY_TITLE] == rows[1][:2]
    assert all(len(r) == 5 for r in rows)


@pytest.mark.parametrize("title", [TRICKY_TITLE, "1. Numbered", "- dash", "+ plus", "= eq",
                                   "a &amp; b", "`code` and \\ back", "{++critic++}",
                                   "trailing ###", "![img](x) [l](y)", "~~struck~~ _u_"])
def test_md_inline_round_trips_through_the_parser(title: str) -> None:
    for context in ("### {}", "- {}", "| {} |\n| --- |", "{}"):
        tokens = _PARSER.parse(context.format(markdown.md_inline(title)))
        inline = next(t for t in tokens if t.type == "inline")
        assert [c.type for c in inline.children or []] in (["text"], ["text", "text"]), context
        assert "".join(c.content for c in inline.children or []) == title


def test_body_headings_move_below_the_item(ws: Workspace, hostile: str) -> None:
    text = export.render(ws, hostile, "agenda")
    assert "#### A heading of the text" in text
    assert (2, "2. Trade") in outline(text)


# Templates: lookup, user folders, sandbox ------------------------------------------------------

def test_template_names_are_not_paths(demo: Workspace) -> None:
    for name in ("../../x", "export/agenda", "/etc/passwd", "agenda.md.j2", "", ".hidden"):
        with pytest.raises(AgendaError, match="not a template name"):
            export.render(demo, DEMO_SLUG, name)


def test_unknown_template_lists_the_known(demo: Workspace) -> None:
    with pytest.raises(AgendaError, match="agenda, brief, negotiating-text, redline"):
        export.render(demo, DEMO_SLUG, "nope")


def test_template_dir_and_user_dir(demo: Workspace, tmp_path: Path) -> None:
    user = paths.user_templates_dir()
    user.mkdir(parents=True)
    (user / "one-liner.md.j2").write_text("{# Titles only #}{% for i in summit.items %}"
                                          "{{ i.number }} {{ i.title | md }}\n{% endfor %}")
    (user / "agenda.md.j2").write_text("user agenda\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "agenda.md.j2").write_text("dir agenda {{ summit.title | md }}\n")
    assert export.render(demo, DEMO_SLUG, "one-liner").startswith("1.1 Regional security")
    assert export.render(demo, DEMO_SLUG, "agenda") == "user agenda\n"
    assert export.render(demo, DEMO_SLUG, "agenda", template_dir=mine).startswith("dir agenda")
    listed = {(t.name, t.origin) for t in templates.list_templates(mine)}
    assert {("agenda", "--template-dir"), ("one-liner", "user"), ("brief", "built-in"),
            ("trilateral", "built-in")} <= listed


def test_a_user_template_can_extend_a_built_in(demo: Workspace, tmp_path: Path) -> None:
    (tmp_path / "short-brief.md.j2").write_text(
        "{#\nA shorter brief\nview: delegation\n#}{% extends 'brief.md.j2' %}"
        "{% block heading %}# Short{% endblock %}")
    text = export.render(demo, DEMO_SLUG, "short-brief", viewer="IN", template_dir=tmp_path)
    assert text.startswith("# Short") and "Private notes of IN" in text
    with pytest.raises(AgendaError, match="--as"):
        export.render(demo, DEMO_SLUG, "short-brief", template_dir=tmp_path)


@pytest.mark.parametrize("source", ["{{ summit.__class__.__mro__ }}",
                                    "{{ ''.__class__.__subclasses__() }}",
                                    "{{ summit._state }}", "{{ nothing }}", "{% for %}"])
def test_sandbox_and_errors_become_clear_refusals(demo: Workspace, tmp_path: Path,
                                                  source: str) -> None:
    (tmp_path / "evil.md.j2").write_text(source)
    with pytest.raises(AgendaError, match="evil.md.j2"):
        export.render(demo, DEMO_SLUG, "evil", template_dir=tmp_path)


def test_since_must_be_a_date(demo: Workspace) -> None:
    with pytest.raises(AgendaError, match="not a date"):
        export.render(demo, DEMO_SLUG, "redline", since="last week")


def test_templates_root_is_found() -> None:
    assert (templates.templates_root() / "export" / "agenda.md.j2").is_file()


# CLI -------------------------------------------------------------------------------------------

@pytest.fixture
def demo_db(demo: Workspace) -> str:
    return str(demo.path)


def test_cli_export_to_stdout_and_file(demo_db: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export", "--db", demo_db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# India–Russia Annual Summit 2021\n")
    target = tmp_path / "out" / "agenda.html"
    target.parent.mkdir()
    assert run(["export", "--db", demo_db, "--format", "html", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert run(["export", "--db", demo_db, "--template", "brief", "--as", "ru"]) == 0
    assert "brief of Russian Federation (RU)" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--template", "brief"], 1, "--as CODE"),
    (["--template", "../x"], 1, "not a template name"),
    (["--template", "nope"], 1, "No export template"),
    (["--format", "pdf"], 2, "invalid choice"),
    (["--template", "brief", "--as", "XX"], 1, "No delegation"),
    (["--since", "soon", "--template", "redline"], 1, "not a date"),
    (["--template-dir", "/nonexistent/dir"], 1, "not a folder"),
    (["-o", "/nonexistent/dir/x.md"], 1, "Cannot write"),
])
def test_cli_export_errors(demo_db: str, capsys: pytest.CaptureFixture[str], argv: list[str],
                           code: int, message: str) -> None:
    assert run(["export", "--db", demo_db, *argv]) == code
    assert message in capsys.readouterr().err


def test_cli_templates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "mine.md.j2").write_text("{#\nMy own\n#}x")
    assert run(["templates", "--template-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "brief" in out and "[needs --as]" in out and "bilateral-annual-summit" in out
    assert "mine" in out and "My own" in out
    assert run(["templates", "--json"]) == 0
    assert '"name": "agenda"' in capsys.readouterr().out


def test_each_compilation_is_merged_once_per_state(demo: Workspace,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The exports, the app's compile (Workspace.compile) and the bracket totals share one
    merge per item: records never change, so a merge is named by the ids of its inputs. The
    compilation's bracket count (what `summit merge` and the app show) is counted once, with
    that merge, however often it is read; an item whose sides stand on one text needs no
    merge and counts nothing more: its count is its revision's."""
    from agenda import brackets
    from agenda import state as state_module

    seen = count_merges(monkeypatch)
    merged, scanned = seen.merged, seen.scanned
    joint = demo.state(DEMO_SLUG)
    divergent = [item for item in joint.items
                 if len({r.text for r in joint.positions(item).values()}) > 1]
    assert divergent  # the demo has items whose sides stand on different texts
    counts: dict[str, list[int]] = {}
    for _ in range(2):
        for template in ("negotiating-text", "agenda", "redline"):
            for fmt in ("md", "html"):
                export.render(demo, DEMO_SLUG, template, fmt=fmt)  # type: ignore[arg-type]
        export.render(demo, DEMO_SLUG, "brief", viewer="IN")
        for item in joint.items:
            if not joint.positions(item):
                continue
            for _read in range(2):
                compiled = demo.compile(DEMO_SLUG, item.uuid)
                counts.setdefault(item.uuid, []).append(compiled.result.brackets)
    # Once per item whose positions differ (an item whose sides agree needs no merge), and
    # never again for the second round of exports and compiles.
    assert 0 < len(merged) <= len(divergent)
    assert len(merged) == len(state_module._MERGES)
    # Each merged text's brackets counted once, and no other text counted as a compilation.
    kept = [result.text for result in state_module._MERGES.values()]
    assert sorted(scanned) == sorted(kept)
    assert any(brackets.parse(text) for text in kept)  # some compilation holds brackets
    monkeypatch.undo()
    for item in joint.items:
        if not joint.positions(item):
            continue
        compiled = demo.compile(DEMO_SLUG, item.uuid)
        # Every read gave the scanner's count of the compiled text, the same each time.
        assert counts[item.uuid] == [brackets.bracket_count(compiled.result.text)] * 4
        if item not in divergent:
            revision = next(iter(joint.positions(item).values()))
            assert compiled.result.brackets == revision.brackets


LOOPED_POSITIONS = (
    '{% for code, label in item.positions %}{{ code }} {{ label }}{{ ", " if not loop.last }}'
    '{% endfor %}')


@pytest.mark.parametrize("no_positions", [False, True])
def test_positions_line_writes_what_the_loop_over_positions_wrote(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        no_positions: bool) -> None:
    """The negotiating text writes each item's positions as one prepared line; the template
    as it was, looping over `item.positions` (still offered to user templates), writes the
    same document, "none" included when an item has no position."""
    shipped = (templates.templates_root() / "export" / "negotiating-text.md.j2").read_text(
        encoding="utf-8")
    looped = shipped.replace("| {{ item.positions_line }} |", f"| {LOOPED_POSITIONS} |")
    looped = looped.replace('*Positions:* {{ item.positions_line or "none" }}\n',
                            "*Positions:* " + LOOPED_POSITIONS.replace(
                                "{% endfor %}", "{% else %}none{% endfor %}") + "\n\n")
    assert looped != shipped and "positions_line" not in looped
    (tmp_path / "negotiating-text.md.j2").write_text(looped, encoding="utf-8")
    if no_positions:
        monkeypatch.setattr(export.ItemView, "_positions", property(lambda self: {}))
    ours = export.render(demo, DEMO_SLUG, "negotiating-text")
    assert ours == export.render(demo, DEMO_SLUG, "negotiating-text", template_dir=tmp_path)
    assert ("*Positions:* none\n\n*(No text: suppressed.)*" in ours) is no_positions


# Work done only for what a template reads --------------------------------------------------

def test_the_redline_diffs_each_changed_item_once_and_no_other(
        demo: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The word diff runs once per item shown as changed; a restated text, a single tabled
    text and "no change since" are written without one (equal texts need no diff)."""
    calls: list[tuple[str, str]] = []
    real = export.diff_words

    def counted(a: str, b: str) -> object:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(export, "diff_words", counted)
    for since in (None, "2021-03-03"):
        calls.clear()
        text = export.render(demo, DEMO_SLUG, "redline", since=since)
        assert "*No change" in text  # the demo has unchanged items in both documents
        assert len(calls) == text.count("\n*Change:*") > 0
        assert all(a != b for a, b in calls)
    # The critics are diffed a few items ahead, in one go: a template that reads one item's
    # pays for a bounded number of others, of edited items only.
    monkeypatch.setattr(export, "_DIFF_AHEAD", 2)
    calls.clear()
    one = (templates.templates_root() / "export" / "redline.md.j2").read_text(encoding="utf-8")
    one = one.replace("{{ change.critic | body(3) }}",
                      "{{ (change.critic if item.number == '1.1' else '') | body(3) }}")
    assert one != (templates.templates_root() / "export" / "redline.md.j2").read_text(
        encoding="utf-8")
    (tmp_path / "redline.md.j2").write_text(one, encoding="utf-8")
    text = export.render(demo, DEMO_SLUG, "redline", template_dir=tmp_path)
    assert 0 < len(calls) <= 2 and all(a != b for a, b in calls)


def test_views_worked_out_on_first_use_hold_what_the_state_says(demo: Workspace,
                                                               tmp_path: Path) -> None:
    """A template may read every item's critic (changed or not) and every revision's stamp
    and acceptances: computed on first use, they are what the state says."""
    (tmp_path / "everything.md.j2").write_text(
        "{#\nEverything\nview: delegation\n#}{% for item in summit.items %}"
        "{{ item.number }}|{{ item.change.critic }}|{% for r in item.tabled %}{{ r.label }} "
        "{{ r.created }} {{ r.accepted_by | join(',') }};{% endfor %}|{% for r in item.drafts %}"
        "{{ r.label }} {{ r.created }} [{{ r.accepted_by | join(',') }}];{% endfor %}|\n"
        "{% endfor %}", encoding="utf-8")
    state = demo.state(DEMO_SLUG, "IN")
    expected = []
    for item in state.items:
        tabled = state.tabled(item)
        critic = render_critic(diff_words(tabled[-2].text if len(tabled) > 1 else "",
                                          tabled[-1].text if tabled else ""))
        revisions = "".join(f"{r.label} {export.stamp(r.created)} "
                            f"{','.join(sorted(state.accepted_by(r)))};" for r in tabled)
        drafts = "".join(f"{r.label} {export.stamp(r.created)} [];"
                         for r in state.history(item) if not r.tabled and r.delegation == "IN")
        expected.append(f"{item.number}|{critic}|{revisions}|{drafts}|\n")
    assert any("[]" in line for line in expected) and any("IN,RU" in e for e in expected)
    assert export.render(demo, DEMO_SLUG, "everything", viewer="IN",
                         template_dir=tmp_path) == document_safe("".join(expected))


_OLD_CONTROL = re.compile(r"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_OLD_NEWLINES = re.compile(r"\r\n|\r|\n")
_OLD_OPENER = re.compile(r"```|~~~|<")
_AWKWARD = st.text(alphabet=st.sampled_from("a é\t\n\r\x00\x0b\x1b\x7f\x85\x9f\xa0#=-<`~>"),
                   max_size=40)


@given(_AWKWARD)
def test_document_safe_is_the_former_scan(text: str) -> None:
    """One character class (a CR taking its newline along) spells what the former
    `\\r\\n|[controls]` scan spelled."""
    old = _OLD_CONTROL.sub(lambda m: "\n" if m.group() == "\r\n" else f"\\x{ord(m.group()):02x}",
                           text)
    assert document_safe(text) == old


@given(_AWKWARD)
def test_body_checks_are_the_former_regex_passes(text: str) -> None:
    """The body filter's line split and its two "could this start a block?" checks decide
    as the former whole-text regex passes did."""
    lines = _OLD_NEWLINES.sub("\n", text).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    assert markdown._lines(text) == lines
    assert markdown._heading_like(text) == bool(markdown._HEADING_LIKE.search(text))
    assert markdown._opener_like(text) == bool(_OLD_OPENER.search(text))


def test_a_template_reading_one_compilation_compiles_a_bounded_few(
        demo: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Compilations are merged a few items ahead, in one go; a template that reads one item's
    gets it right and pays for a bounded number of others."""
    compiled: list[str] = []
    real = export.compile_item

    def counted(state: object, item: object, *args: object, **kw: object) -> object:
        compiled.append(item.number)  # type: ignore[attr-defined]
        return real(state, item, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "compile_item", counted)
    monkeypatch.setattr(export, "_COMPILE_AHEAD", 2)
    (tmp_path / "one.md.j2").write_text(
        "{#\nOne\nview: joint\n#}{% for item in summit.items %}"
        "{% if item.number == '2.1' %}{{ item.compilation }}{% endif %}{% endfor %}|\n",
        encoding="utf-8")
    text = export.render(demo, DEMO_SLUG, "one", template_dir=tmp_path)
    state = demo.state(DEMO_SLUG)
    item = state.item("2.1")
    assert text == document_safe(real(state, item).result.text + "|\n")
    assert compiled[0] == "2.1" and 0 < len(compiled) <= 2
