"""Read a Markdown agenda written elsewhere into a summit: sections, items, and their texts.

The outline comes from markdown-it-py's block tokens and their line maps; item texts are
slices of the source lines, so whatever Markdown an item holds (tables, nested lists, HTML,
link definitions) is kept as written. Every non-blank line ends up in a section heading, an
item, or the report: nothing is dropped without saying so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from agenda.export import find_starter, shift_headings
from agenda.model import OPEN_STATUSES, AgendaError, Code, Delegation
from agenda.workspace import NewItem, SummitEntry, Workspace, check_text

DEFAULT_SECTION = "General"
MAX_TITLE = 500

_MD = MarkdownIt("commonmark")
# The outline needs block tokens only; titles get their inline pass one at a time.
_BLOCKS = MarkdownIt("commonmark").disable("inline")
_NUMBERING = re.compile(r"^(?:\d{1,4}(?:\.\d{1,4})*[.)]|\d{1,4}(?:\.\d{1,4})+)\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_BREAKS = ("softbreak", "hardbreak")

NoteKind = Literal["front matter", "title", "preamble", "metadata", "unplaced", "warning"]


@dataclass(frozen=True)
class SourceNote:
    """Lines of the source that are not an item's text or a section heading, and why."""

    kind: NoteKind
    line: int  # 1-based
    end: int  # 1-based, inclusive
    text: str
    reason: str

    @property
    def lines(self) -> str:
        return f"line {self.line}" if self.line == self.end else f"lines {self.line}–{self.end}"


@dataclass(frozen=True)
class ParsedItem:
    section: str
    title: str
    text: str
    line: int  # 1-based line of its title
    span: tuple[int, int]  # 0-based [start, end) of the source lines it takes


@dataclass(frozen=True)
class ParsedSection:
    title: str
    line: int  # 1-based; 0 for the implicit section of a document without section headings
    span: tuple[int, int] = (0, 0)  # 0-based [start, end) of its heading's lines


@dataclass
class ParsedAgenda:
    title: str | None
    front_matter: dict[str, str]
    sections: list[ParsedSection]
    items: list[ParsedItem]
    notes: list[SourceNote]

    @property
    def section_titles(self) -> list[str]:
        """Distinct section titles in order (a repeated heading continues the section)."""
        seen: dict[str, str] = {}
        for section in self.sections:
            seen.setdefault(section.title.casefold(), section.title)
        return list(seen.values())


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


# Parsing ------------------------------------------------------------------------------------

def _plain(children: Sequence[Token], *, first_line: bool = False) -> str:
    """An inline token run as plain text: markup dropped, link targets kept in parentheses."""
    out: list[str] = []
    links: list[tuple[str, int]] = []
    for token in children:
        if token.type in _BREAKS:
            if first_line:
                break
            out.append(" ")
        elif token.type in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif token.type == "link_open":
            links.append((str(token.attrGet("href") or ""), len(out)))
        elif token.type == "link_close" and links:
            href, at = links.pop()
            label = "".join(out[at:])
            if href and label not in (href, href.removeprefix("mailto:")):
                out.append(f" ({href})")
        elif token.type == "image":
            out.append(_plain(token.children or []))
            src = str(token.attrGet("src") or "")
            if src:
                out.append(f" ({src})")
    return "".join(out)


def clean_title_text(raw: str) -> str:
    text = " ".join(_CONTROL.sub(" ", raw).split())
    return _NUMBERING.sub("", text, count=1).strip()


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """YAML-style front matter between --- lines at the very top: simple `key: value` pairs."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            pairs = {}
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    pairs[key.strip().lower()] = value.strip().strip("\"'")
            return pairs, end + 1
    return {}, 0


class _Outline:
    """One pass over the block tokens, turning line ranges into sections, items and notes."""

    def __init__(self, source: str) -> None:
        text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        self.lines = text.split("\n")
        self.front_matter, fm_end = _front_matter(self.lines)
        self.fm_end = fm_end
        parsed_lines = [""] * fm_end + self.lines[fm_end:]
        self.tokens = _BLOCKS.parse("\n".join(parsed_lines))
        # First line -> index of the top-level block starting there.
        self.blocks = {t.map[0]: i for i, t in enumerate(self.tokens)
                       if t.level == 0 and t.nesting >= 0 and t.map}
        self.used: set[int] = set()
        self.notes: list[SourceNote] = []
        self.sections: list[ParsedSection] = []
        self.items: list[ParsedItem] = []
        self.title: str | None = None
        if fm_end:
            self._note("front matter", 0, fm_end, "front matter (summit details)")

    # Helpers ---------------------------------------------------------------------------------

    def _text(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end]).strip("\n")

    def _note(self, kind: NoteKind, start: int, end: int, reason: str) -> None:
        """Account for lines [start, end) in the report (trimmed of blank edges)."""
        while start < end and not self.lines[start].strip():
            start += 1
        while end > start and not self.lines[end - 1].strip():
            end -= 1
        if start >= end:
            return
        self.used.update(range(start, end))
        self.notes.append(SourceNote(kind, start + 1, end, self._text(start, end), reason))

    def _leftovers(self, start: int, end: int, reason: str, kind: NoteKind = "unplaced") -> None:
        """Report every run of lines in [start, end) that nothing has taken yet."""
        run: int | None = None
        for index in range(start, end + 1):
            free = index < end and index not in self.used
            if free and run is None:
                run = index
            elif not free and run is not None:
                self._note(kind, run, index, reason)
                run = None

    def _inline(self, index: int) -> list[Token]:
        """The inline tokens of the block opened at `index` (a heading or paragraph)."""
        inline = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        if inline is None or inline.type != "inline":
            return []
        parsed = _MD.parseInline(inline.content)
        return list(parsed[0].children or []) if parsed else []

    def _title(self, raw: str, line: int, fallback: str) -> tuple[str, str]:
        """A usable one-line title, and any overflow to put at the top of the text."""
        title = clean_title_text(raw)
        if not title:
            self.notes.append(SourceNote("warning", line + 1, line + 1, self.lines[line],
                                         f"no title text; named {fallback!r}"))
            return fallback, ""
        if len(title) > MAX_TITLE:
            self.notes.append(SourceNote("warning", line + 1, line + 1, title[:80] + "…",
                                         "title too long; shortened, in full in the text"))
            return title[:120].rstrip() + "…", title
        return title, ""

    # Outline -----------------------------------------------------------------------------------

    def headings(self) -> list[tuple[int, int, int, int]]:
        """(token index, level, first line, end line) of every top-level heading."""
        return [(i, int(t.tag[1]), t.map[0], t.map[1]) for i, t in enumerate(self.tokens)
                if t.type == "heading_open" and t.level == 0 and t.map]

    def run(self) -> ParsedAgenda:
        headings = self.headings()
        levels = [h[1] for h in headings]
        if headings:
            first = headings[0]
            top = min(levels)
            if first[1] == top and levels.count(top) == 1 and (top == 1 or len(headings) > 1):
                self.title, _ = self._title(_plain(self._inline(first[0])), first[2],
                                            "Untitled summit")
                self._note("title", first[2], first[3], "the summit's title")
                headings = headings[1:]
        end = len(self.lines)
        if not headings:
            # No section headings: one implicit section, whose items are list items.
            start = next((h for h in range(self.fm_end, end) if h not in self.used), end)
            self._section(DEFAULT_SECTION, (start, start), end, [])
            if not self.items:
                self.sections.clear()
        else:
            level = min(h[1] for h in headings)
            tops = [h for h in headings if h[1] == level]
            self._leftovers(self.fm_end, tops[0][2], "before the first section: not imported",
                            "preamble")
            for n, heading in enumerate(tops):
                stop = tops[n + 1][2] if n + 1 < len(tops) else end
                inner = [h for h in headings if heading[3] <= h[2] < stop]
                title, overflow = self._title(_plain(self._inline(heading[0])), heading[2],
                                              f"Untitled section (line {heading[2] + 1})")
                if overflow:
                    self.notes.append(SourceNote("warning", heading[2] + 1, heading[2] + 1,
                                                 overflow, "long section title shortened"))
                self.used.update(range(heading[2], heading[3]))
                self._section(title, (heading[2], heading[3]), stop, inner)
        self._leftovers(0, end, "not placed")
        return ParsedAgenda(self.title, self.front_matter, self.sections, self.items,
                            sorted(self.notes, key=lambda n: n.line))

    def _section(self, title: str, heading: tuple[int, int], stop: int,
                 inner: list[tuple[int, int, int, int]]) -> None:
        """A section: its heading's lines, and what follows up to `stop`."""
        start = heading[1]
        line = heading[0] + 1 if heading[1] > heading[0] else 0
        self.sections.append(ParsedSection(title, line, heading))
        if inner:
            level = min(h[1] for h in inner)
            items = [h for h in inner if h[1] == level]
            self._leftovers(start, items[0][2],
                            f"under section {title!r} before its first item: not imported")
            for n, heading in enumerate(items):
                end = items[n + 1][2] if n + 1 < len(items) else stop
                self._heading_item(title, heading, end)
            return
        for line in range(start, stop):
            index = self.blocks.get(line)
            if index is not None and self.tokens[index].type in ("bullet_list_open",
                                                                 "ordered_list_open"):
                self._list_items(title, index)
        self._leftovers(start, stop, f"in section {title!r} but not in an item (items are "
                                     "sub-headings or list items): not imported")

    def _heading_item(self, section: str, heading: tuple[int, int, int, int], end: int) -> None:
        index, level, first, body_start = heading
        raw = _plain(self._inline(index))
        title, overflow = self._title(raw, first, f"Untitled item (line {first + 1})")
        body_start = self._skip_metadata(body_start, end)
        body = shift_headings(self.lines[body_start:end], -level)
        self._item(section, title, overflow, body, first, end)

    def _skip_metadata(self, start: int, end: int) -> int:
        """Skip the `*Status:* …` line an export puts under each item heading."""
        line = next((n for n in range(start, end) if self.lines[n].strip()), end)
        index = self.blocks.get(line)
        if index is None or self.tokens[index].type != "paragraph_open" or \
                not self.tokens[index + 1].content.startswith(("*", "_")):
            return start
        children = self._inline(index)
        if len(children) >= 2 and children[0].type == "em_open" and \
                children[1].content.strip() in ("Status:", "Change:"):
            stop = self.tokens[index].map[1]  # type: ignore[index]
            self._note("metadata", line, stop, "export metadata line")
            return stop
        return start

    def _list_items(self, section: str, list_index: int) -> None:
        depth = 0
        for index in range(list_index, len(self.tokens)):
            token = self.tokens[index]
            depth += token.nesting if token.type.endswith(("_list_open", "_list_close")) else 0
            if depth == 0 and index > list_index:
                return
            if token.type == "list_item_open" and token.level == 1 and token.map:
                self._list_item(section, index)

    def _list_item(self, section: str, index: int) -> None:
        start, end = self.tokens[index].map  # type: ignore[misc]
        first = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        if first is None or first.type not in ("paragraph_open", "heading_open") or \
                not first.map or first.map[0] != start:
            self._note("unplaced", start, end, "a list item with no title line: not imported")
            return
        raw = _plain(self._inline(index + 1), first_line=True)
        title, overflow = self._title(raw, start, f"Untitled item (line {start + 1})")
        indent = _content_indent(self.lines[start])
        body = [_dedent(line, indent) for line in self.lines[start + 1:end]]
        self._item(section, title, overflow, body, start, end)

    def _item(self, section: str, title: str, overflow: str, body: list[str], first: int,
              end: int) -> None:
        text = "\n".join(body).strip("\n")
        text = "\n".join(line.rstrip() for line in text.split("\n"))
        if overflow:
            text = f"{overflow}\n\n{text}".strip()
        if not text.strip():
            text = title
            self.notes.append(SourceNote("warning", first + 1, first + 1, title,
                                         "item has no text; its title is used as its text"))
        while end > first + 1 and not self.lines[end - 1].strip():
            end -= 1
        self.used.update(range(first, end))
        self.items.append(ParsedItem(section, title, text, first + 1, (first, end)))


def _content_indent(line: str) -> int:
    """Where a list item's content starts: after the marker and up to four spaces."""
    stripped = line.lstrip(" ")
    marker = re.match(r"[-+*]|\d{1,9}[.)]", stripped)
    column = len(line) - len(stripped) + (marker.end() if marker else 0)
    rest = line[column:]
    spaces = len(rest) - len(rest.lstrip(" "))
    return column + (spaces if 1 <= spaces <= 4 and rest.strip() else 1)


def _dedent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent):]


def parse_markdown(text: str) -> ParsedAgenda:
    """The outline of a Markdown agenda, without touching any workspace.

    The one top heading (if it is alone at its level) is the summit's title; the next level
    are sections; inside a section, the next heading level down, or else the top-level list
    items, are its items. An item's text is everything under it, Markdown kept as written
    (its own headings moved up to start at level 1). What fits nowhere is reported.
    """
    return _Outline(text).run()


# Importing into a workspace ---------------------------------------------------------------

@dataclass
class ImportReport:
    slug: str
    source: str
    delegation: str
    created_summit: bool = False
    sections_added: list[str] = field(default_factory=list)
    sections_existing: list[str] = field(default_factory=list)
    items_added: list[str] = field(default_factory=list)
    items_changed: list[str] = field(default_factory=list)
    items_unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[SourceNote] = field(default_factory=list)

    @property
    def unplaced(self) -> list[SourceNote]:
        return [n for n in self.notes if n.kind in ("unplaced", "preamble")]

    def to_json(self) -> dict[str, Any]:
        return {
            "summit": self.slug, "source": self.source, "delegation": self.delegation,
            "created_summit": self.created_summit,
            "sections": {"added": self.sections_added, "existing": self.sections_existing},
            "items": {"added": self.items_added, "changed": self.items_changed,
                      "unchanged": self.items_unchanged, "refused": self.refused},
            "notes": [{"kind": n.kind, "line": n.line, "end": n.end, "reason": n.reason,
                       "text": n.text} for n in self.notes],
        }


def _same_text(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n")
                         .split("\n")).strip("\n")
    return norm(a) == norm(b)


def import_markdown(
    ws: Workspace,
    text: str,
    *,
    delegation: str,
    slug: str | None = None,
    title: str | None = None,
    delegations: Sequence[Delegation] = (),
    venue: str = "",
    dates: str = "",
    new_slug: str | None = None,
    source_name: str = "",
    chair: Delegation | None = None,
) -> ImportReport:
    """Import a Markdown agenda: into the summit `slug`, or a new one when `delegations` given.

    New items are added with their text tabled (ADD) by `delegation`; an item already there
    (same title in the same section) whose text differs gets a MOD tabled, so importing a
    revised file again does not duplicate anything. All of it is one transaction.
    """
    if "\x00" in text:
        raise AgendaError(f"{source_name or 'The file'} contains NUL bytes; is it a binary "
                          "file?")
    parsed = parse_markdown(text)
    for item in parsed.items:
        check_text(item.text)
    with ws.transaction():
        if delegations:
            summit_title = title or parsed.front_matter.get("title") or parsed.title
            if not summit_title:
                raise AgendaError("Give the new summit a --title: the file has no title heading")
            entry: SummitEntry = ws.create_summit(
                summit_title, delegations, slug=new_slug,
                venue=venue or parsed.front_matter.get("venue", ""),
                dates=dates or parsed.front_matter.get("dates", ""),
                sections=parsed.section_titles, chair=chair)
            slug, created = entry.slug, True
        else:
            slug, created = ws.resolve_slug(slug), False
        state = ws.state(slug, delegation)
        code = state.summit.delegation(delegation).code
        report = ImportReport(slug, source_name, code, created, notes=parsed.notes)
        known = {s.title.casefold(): s.title for s in state.summit.sections}
        for section in parsed.section_titles:
            if section.casefold() in known:
                (report.sections_existing if not created else report.sections_added).append(
                    known[section.casefold()])
            else:
                ws.add_section(slug, section, actor=code)
                known[section.casefold()] = section
                report.sections_added.append(section)
        existing: dict[tuple[str, str], list[Any]] = {}
        for item in state.items:
            existing.setdefault((item.section.casefold(), _key(item.title)), []).append(item)
        fresh: list[NewItem] = []
        for parsed_item in parsed.items:
            section = known[parsed_item.section.casefold()]
            matches = existing.get((section.casefold(), _key(parsed_item.title)))
            if not matches:
                fresh.append(NewItem(section, parsed_item.title, parsed_item.text,
                                     f"Imported from {source_name}" if source_name else ""))
                continue
            item = matches.pop(0)
            label = f"{item.number} {item.title}"
            if _same_text(state.current_text(item), parsed_item.text):
                report.items_unchanged.append(label)
            elif item.status not in OPEN_STATUSES:
                report.refused.append(f"{label}: it is {item.status.value}; its text was not "
                                      "changed")
            else:
                ws.table(slug, item.uuid, delegation=code, text=parsed_item.text, code=Code.MOD,
                         why=f"Imported from {source_name}" if source_name else "Imported")
                report.items_changed.append(label)
        added = ws.add_items(slug, fresh, delegation=code)
        report.items_added.extend(f"{item.number} {item.title}" for item in added)
    return report


# Starter agendas -------------------------------------------------------------------------------

def starter_text(name: str, template_dir: Path | None = None) -> tuple[str, str]:
    """A starter agenda's Markdown, and where it comes from."""
    info = find_starter(name, template_dir)
    return info.path.read_text(encoding="utf-8"), str(info.path)


def starter_sections(name: str, template_dir: Path | None = None,
                     ) -> tuple[list[str], list[ParsedItem]]:
    """The sections and suggested items of a starter agenda (for `summit new --template`)."""
    parsed = parse_markdown(starter_text(name, template_dir)[0])
    return parsed.section_titles, parsed.items


def new_summit_from_starter(
    ws: Workspace,
    name: str,
    title: str,
    delegations: Sequence[Delegation],
    *,
    delegation: str | None = None,
    slug: str | None = None,
    venue: str = "",
    dates: str = "",
    template_dir: Path | None = None,
    chair: Delegation | None = None,
) -> ImportReport:
    """Create a summit laid out by a starter agenda; its suggested items are tabled by
    `delegation` (default: the first delegation, the host)."""
    text, _ = starter_text(name, template_dir)
    return import_markdown(ws, text, delegation=delegation or delegations[0].code, title=title,
                           delegations=delegations, venue=venue, dates=dates, new_slug=slug,
                           source_name=f"starter agenda {name}", chair=chair)
