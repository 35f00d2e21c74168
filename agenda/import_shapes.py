"""The shapes an agenda takes, recognised line by line: titles, detail keys, tables, lists.

Pure functions over strings and markdown-it tokens, used by the importer's outline pass; none
of them touches a workspace.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from agenda import brackets

SOFT_TITLE = 120  # longer titles are shortened, their full wording kept in the text
NO_TEXT = "*(No text of its own in the imported agenda.)*"

_INLINE = MarkdownIt("commonmark").enable("strikethrough")
# Titles are read, never rendered: a link's target is kept as written, not URL-normalised
# (half the cost of an inline parse).
_INLINE.normalizeLink = lambda url: url  # type: ignore[method-assign]
_INLINE.normalizeLinkText = lambda link: link  # type: ignore[method-assign]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_NUMBERING = re.compile(r"^(?:\d{1,4}(?:\.\d{1,4})*[.)]|\d{1,4}(?:\.\d{1,4})+)\s+")
_TASK = re.compile(r"^\[[ xX]\]\s+")
_TASK_IN_TEXT = re.compile(r"^(\s*(?:[-+*]|\d{1,9}[.)])\s+)\[([ xX])\]", re.MULTILINE)
_TAG = re.compile(r"<[^>]*>")
_BREAKS = ("softbreak", "hardbreak")
_BARE_URL = re.compile(r"[\[(<]?\b[a-z][a-z0-9+.-]*://[^\s<>\])]*[\])>]?", re.I)


# Titles ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inline:
    """An inline run read as plain text, and whether the plain text lost anything."""

    text: str
    lossy: bool  # links, images or HTML whose targets or markup are not in `text`


_PLAIN_ONLY = re.compile(r"[\\`*_\[\]<>!&~\n]")


@lru_cache(maxsize=4096)
def _inline_cached(source: str) -> tuple[Token, ...]:
    parsed = _INLINE.parseInline(source)
    return tuple(parsed[0].children or []) if parsed else ()


_SIMPLE_LINK = re.compile(r"\[([^\[\]\\`*_<>!&~\n]*)\]\(([^()\s<>\\`]*)\)")
# A bracketed phrase, the negotiators' mark on most agenda lines: literal text for
# markdown-it when the document defines no link references and no `(` or `[` follows.
_PLAIN_BRACKETS = re.compile(r"\[[^\[\]\\`*_<>!&~\n()]*\](?![(\[])")


def _simple_tokens(source: str, *, brackets: bool = False) -> list[Token] | None:
    """Tokens of a line whose only Markdown is plain `[text](url)` links (most titles) and,
    with `brackets` (no references defined), bracketed phrases, as markdown-it would give
    them, without running its parser; None for anything else."""
    # Phrases first, each judged by what follows it in the line as written.
    rest = _PLAIN_BRACKETS.sub("", source) if brackets and "[" in source else source
    rest = _SIMPLE_LINK.sub("", rest)
    if _PLAIN_ONLY.search(rest):
        return None
    out: list[Token] = []
    at = 0
    text = source.strip()
    for m in _SIMPLE_LINK.finditer(text):
        if m.start() > at:
            out.append(_token("text", "", 0, content=text[at:m.start()], block=False))
        out.append(_token("link_open", "a", 1, attrs={"href": m.group(2)}, block=False))
        if m.group(1):
            out.append(_token("text", "", 0, content=m.group(1), block=False))
        out.append(_token("link_close", "a", -1, block=False))
        at = m.end()
    if at < len(text):
        out.append(_token("text", "", 0, content=text[at:], block=False))
    return out


def inline_tokens(source: str, references: dict[str, Any] | None = None) -> list[Token]:
    """The inline tokens of a line of Markdown (plain text and plain links skip the parser:
    most titles); `references` are the document's link definitions, for `[text][ref]`."""
    if not _PLAIN_ONLY.search(source):
        return [_token("text", "", 0, content=source.strip(), block=False)] \
            if source.strip() else []
    simple = _simple_tokens(source, brackets=not references)
    if simple is not None:
        return simple
    if references and "[" in source:
        parsed = _INLINE.parseInline(source, {"references": references})
        return list(parsed[0].children or []) if parsed else []
    return list(_inline_cached(source))


def plain(children: Sequence[Token], *, first_line: bool = False,
          urls: bool = False) -> Inline:
    """Plain text of an inline run: link text without its URL (or, with `urls`, the URL
    after it in parentheses), HTML tags dropped."""
    out: list[str] = []
    links: list[tuple[str, int]] = []
    lossy = False
    for token in children:
        if token.type in _BREAKS:
            if first_line:
                break
            out.append(" ")
        elif token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type == "html_inline":
            lossy = True
        elif token.type == "link_open":
            lossy = True
            links.append((str(token.attrGet("href") or ""), len(out)))
        elif token.type == "link_close" and links:
            href, at = links.pop()
            label = "".join(out[at:])
            if label in (href, href.removeprefix("mailto:")):
                if not urls and re.match(r"(?:https?|ftp|mailto):", href, re.I):
                    del out[at:]  # a bare URL is no title; the text keeps it
            elif urls and href:
                out.append(f" ({href})")
        elif token.type == "image":
            lossy = True
            out.append(plain(token.children or []).text)
            src = str(token.attrGet("src") or "")
            if urls and src:
                out.append(f" ({src})")
    text = "".join(out)
    if not urls and "://" in text:
        # A URL written as plain text (or in a broken link) is no title either.
        text, found = _BARE_URL.subn("", text)
        lossy = lossy or bool(found)
    return Inline(html.unescape(text) if "&" in text else text, lossy)


def plain_text(source: str, *, urls: bool = False) -> str:
    """A line of Markdown as plain one-line text (for details and table cells)."""
    return one_line(plain(inline_tokens(source), urls=urls).text)


_SEPARATOR_CHARS = "-–—:|,;"  # left dangling at a title's ends by a removed URL
_SEPARATORS = frozenset(_SEPARATOR_CHARS)


def one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


_LEADING_SEPARATORS = re.compile(rf"^(?:[{re.escape(_SEPARATOR_CHARS)}]\s*)+")
_TRAILING_SEPARATORS = re.compile(rf"(?:\s*[{re.escape(_SEPARATOR_CHARS)}]|\s*\(\s*\))+$")


def clean_title_text(raw: str) -> str:
    """One line, without outline numbering ("3.", "2.1") or a task box: the agenda renumbers.
    Separators left dangling by a removed URL (`Calendar: <url>`) go too."""
    text = one_line(raw)
    # Each pattern is tried only where it could match (its first or last character): a
    # title of an import of 100k items is cleaned once each.
    if text[:1].isdigit():
        text = _NUMBERING.sub("", text, count=1).strip()
    if text[:1] == "[":
        text = _TASK.sub("", text, count=1).strip()
    if text[:1] in _SEPARATORS:
        text = _LEADING_SEPARATORS.sub("", text) or text
    if text[-1:] in _SEPARATORS or text[-1:] == ")":
        text = _TRAILING_SEPARATORS.sub("", text).strip() or text
    return text


def strip_numbering(line: str) -> str:
    """A heading's Markdown without its outline number."""
    return _NUMBERING.sub("", line, count=1)


def shorten(title: str, limit: int = SOFT_TITLE) -> str:
    """A title of at most `limit` characters, cut at a sentence, else a clause, else a word."""
    if len(title) <= limit:
        return title
    head = title[: limit + 1]
    cut = max(head.rfind(mark) for mark in (". ", "? ", "! "))
    if cut >= limit // 4:
        return head[: cut + 1]
    cut = max(head.rfind(mark) for mark in ("; ", ": ", " – ", " — ", " - ", ", ", " ("))
    if cut >= limit // 4:
        return head[:cut].rstrip(" ,;:") + "…"
    cut = head.rfind(" ")
    return (head[:cut] if cut >= limit // 4 else title[: limit - 1]).rstrip() + "…"


_TIMED = re.compile(r"^\s*((?:\d{1,2}[:.h]\d{2}|\d{4})(?:\s*(?:am|pm))?"
                    r"(?:\s*[-–—]\s*(?:\d{1,2}[:.h]\d{2}|\d{4})(?:\s*(?:am|pm))?)?)"
                    r"\s*[-–—:|]?\s+(\S.*?)\s*\\?$", re.I)


def timed_line(line: str) -> tuple[str, str] | None:
    """(time, rest) of a schedule line, `09:00 Opening` or `0900-0930 – Trade`, else None."""
    m = _TIMED.match(line)
    return (m.group(1), m.group(2)) if m else None


# Meeting details -------------------------------------------------------------------------------

DETAIL_KEYS = {
    "title": "title", "meeting": "title",
    "host": "host", "hosts": "host", "hosted by": "host", "organiser": "host",
    "organizer": "host", "organisers": "host", "organizers": "host",
    "date": "dates", "dates": "dates", "when": "dates", "day": "dates", "days": "dates",
    "location": "venue", "locations": "venue", "venue": "venue", "where": "venue",
    "place": "venue", "city": "venue",
}
# What the agenda export prints in its own header: read back, not taken as a preamble.
EXPORT_KEYS = frozenset({"text as of"})
_KEY_LINE = re.compile(
    r"^\s*(?:[-+*]\s+)?(?:\*\*|__)(?P<k1>[^*_:\n]{1,40}?)(?::(?:\*\*|__)|(?:\*\*|__)\s*:)"
    r"\s*(?P<v1>.*)$"
    r"|^\s*(?:[-+*]\s+)?(?P<k2>[A-Za-z][\w /-]{0,30}?)\s*:\s+(?P<v2>\S.*)$")


def key_line(line: str, *, bold_only: bool = False) -> tuple[str, str] | None:
    """(key, value) of a `**Key**: value` line (or `Key: value` unless bold_only)."""
    m = _KEY_LINE.match(line)
    if not m:
        return None
    if m.group("k1") is not None:
        return m.group("k1").strip(), m.group("v1").strip()
    if bold_only:
        return None
    return m.group("k2").strip(), m.group("v2").strip()


def detail_of(key: str) -> str | None:
    return DETAIL_KEYS.get(" ".join(key.lower().split()))


# Front matter ----------------------------------------------------------------------------------

def front_matter(lines: Sequence[str]) -> tuple[dict[str, str], int]:
    """YAML-style front matter between --- lines at the top: `key: value`, `key: [a, b]` and
    `key:` followed by `- item` lines; values as one-line strings."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            pairs: dict[str, str] = {}
            key = ""
            for line in lines[1:end]:
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                if line[:1] in (" ", "\t", "-") and key:
                    value = _yaml_scalar(stripped.removeprefix("-").strip())
                    pairs[key] = ", ".join(v for v in (pairs[key], value) if v)
                    continue
                name, sep, value = line.partition(":")
                if not sep or not name.strip():
                    continue
                key = name.strip().lower()
                pairs[key] = _yaml_scalar(value.strip())
            return pairs, end + 1
    return {}, 0


def _yaml_scalar(value: str) -> str:
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(_yaml_scalar(v.strip()) for v in value[1:-1].split(",") if v.strip())
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


# Tables ------------------------------------------------------------------------------------------

_TOPIC_HEADER = re.compile(r"topic|item|subject|title|agenda|session|talk|description|"
                           r"presentation|discussion|what|proposal|issue|paper|name", re.I)
_NOT_TOPIC = re.compile(r"^\s*(?:\d[\d:.,\s–-]*(?:min|mins|minutes|h|am|pm|utc)?|tbd|n/?a|"
                        r"[-–—]|)\s*$", re.I)


def pipe_cells(line: str) -> list[str]:
    """The cells of a pipe-table row (a `|` inside backticks or escaped stays in its cell)."""
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    cells, current, ticks, i = [], [], False, 0
    while i < len(stripped):
        c = stripped[i]
        if c == "\\" and i + 1 < len(stripped):
            current.append(stripped[i:i + 2])
            i += 2
            continue
        if c == "`":
            ticks = not ticks
        if c == "|" and not ticks:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    cells.append("".join(current).strip())
    return [cell.replace("\\|", "|") for cell in cells]


def topic_column(header: list[str], rows: list[list[str]]) -> int | None:
    """The column holding the topics: named so, else the first that is not times or numbers."""
    for n, name in enumerate(header):
        if _TOPIC_HEADER.search(plain_text(name)):
            return n
    width = max((len(r) for r in rows), default=0)
    for n in range(min(len(header) or width, width)):
        values = [plain_text(r[n]) for r in rows if n < len(r)]
        if values and sum(1 for v in values if not _NOT_TOPIC.match(v)) * 2 > len(values):
            return n
    return None


@dataclass(frozen=True)
class Row:
    title_source: str  # the topic cell as written (Markdown)
    fields: tuple[tuple[str, str], ...]  # (header, cell) of the other non-empty cells


_NUMERIC = re.compile(r"^[\d\s.,:;%+\-–—()\[\]/x×*~<>=]*$")


def table_rows(header: list[str], rows: list[list[str]]) -> tuple[int | None, list[Row]]:
    """Rows of a topic table, or (None, []) when the table holds no topics (a table of
    figures, or one with no text column)."""
    topic = topic_column(header, rows)
    if topic is None:
        return None, []
    others = [plain_text(c) for r in rows for n, c in enumerate(r) if n != topic and c.strip()]
    named = topic < len(header) and _TOPIC_HEADER.search(plain_text(header[topic]))
    if not named and others and sum(1 for c in others if _NUMERIC.match(c)) * 3 >= \
            len(others) * 2:
        return None, []
    out = []
    for row in rows:
        cells = row + [""] * (len(header) - len(row))
        fields = tuple((header[n] if n < len(header) and header[n] else f"Column {n + 1}", cell)
                       for n, cell in enumerate(cells) if n != topic and cell.strip())
        out.append(Row(cells[topic] if topic < len(cells) else "", fields))
    return topic, out


class _HTMLTable(HTMLParser):
    """Rows of cells of the first <table> in an HTML block, cells as Markdown-ish text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.header_rows: set[int] = set()
        self.cell: list[str] | None = None
        self.href: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
        elif self.depth != 1:
            return
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = []
            if tag == "th":
                self.header_rows.add(len(self.rows) - 1)
        elif tag == "a" and self.cell is not None:
            self.href.append(dict(attrs).get("href") or "")
            self.cell.append("[")
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth -= 1
        elif self.depth != 1:
            return
        elif tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1].append(one_line("".join(self.cell)))
            self.cell = None
        elif tag == "a" and self.cell is not None and self.href:
            href = self.href.pop()
            self.cell.append(f"]({href})" if href else "]")

    def handle_data(self, data: str) -> None:
        if self.cell is not None and self.depth == 1:
            self.cell.append(data.replace("[", "\\[").replace("]", "\\]"))


def html_table(block: str) -> tuple[list[str], list[list[str]]] | None:
    """(header, body rows) of an HTML table, or None when the block holds no table rows."""
    if "<table" not in block.lower():
        return None
    parser = _HTMLTable()
    parser.feed(block)
    parser.close()
    rows = [r for r in parser.rows if any(c.strip() for c in r)]
    if not rows:
        return None
    if 0 in parser.header_rows or (parser.rows and parser.rows[0] is rows[0]
                                   and 0 in parser.header_rows):
        return rows[0], rows[1:]
    return [], rows


# Lists that are not the agenda ---------------------------------------------------------------

_ATTENDEES = re.compile(r"\b(attendees?|attendance|present|participants?|roll[- ]?call|"
                        r"regrets|absent|apologies|invitees?|guests?|observers?|people|"
                        r"members present|in the room|remote)\b", re.I)
_LINKS = re.compile(r"\b(links?|resources|references|related documents|documents|materials|"
                    r"reading|table of contents|contents|toc)\b", re.I)
_LOGISTICS = re.compile(r"\b(logistics|dial[- ]?in|how to join|joining|registration|"
                        r"meeting information|meeting details|venue|hotels?|travel)\b", re.I)
_AGENDA = re.compile(r"\b(agenda|items?|topics?|schedule|programme|program|order of business|"
                     r"discussion|proposals?|decisions?|actions?)\b", re.I)
_NAME = re.compile(r"^(?:[A-Z][\w'’.-]*|[a-z]{1,3}|de|van|von)(?:\s+(?:[A-Z][\w'’.-]*|"
                   r"de|van|von|da|del|la|le)){1,4}(?:\s*(?:\(.*\)|@[\w-]+|[-–—,:].*|"
                   r"<.*>))*\s*$")


_AFFILIATION = re.compile(r"@[\w-]+|\([^)]*\)\s*$|\s[-–—,]\s*\S")


def not_agenda(heading: str, titles: list[str], link_only: list[bool]) -> str | None:
    """Why a list is not agenda entries (attendees, links, logistics), or None if it is."""
    names = [name_like(t) for t in titles]
    return not_agenda_counted(heading, len(titles), sum(n for n, _ in names),
                              sum(m for _, m in names), all(link_only))


def not_agenda_by_heading(heading: str) -> str | None:
    """What the heading alone says of a list under it: "" agenda entries, else why not;
    None when its entries must be read (`not_agenda_counted`)."""
    if _AGENDA.search(heading) and not _ATTENDEES.search(heading):
        return ""
    if _ATTENDEES.search(heading):
        return "an attendee list"
    return None


def name_like(title: str) -> tuple[bool, bool]:
    """Whether a list entry's title reads as a person's name, and as one with a handle or
    an affiliation."""
    name = _NAME.match(title) is not None
    return name, name and _AFFILIATION.search(title) is not None


def not_agenda_counted(heading: str, titles: int, names: int, marked: int,
                       all_links: bool) -> str | None:
    """`not_agenda` from counts of the entries (read one at a time): how many, how many
    read as names and as marked names, whether all are links only."""
    verdict = not_agenda_by_heading(heading)
    if verdict is not None:
        return verdict or None
    if titles and all_links:
        return "a list of links"
    if _LINKS.search(heading):
        return "a list of links"
    if _LOGISTICS.search(heading):
        return "logistics"
    # Title Case agenda entries ("Opening Remarks") look like names: only a list whose
    # entries mostly carry a handle or an affiliation, "Ann Lee @ann (TSC)", is people.
    if titles >= 4 and names * 5 >= titles * 4 and marked * 2 >= titles:
        return "a list of names"
    return None


_ASIDE_HEADINGS = (
    (re.compile(r"^(attendees?|attendance|present|participants?|roll[- ]?call|regrets|absent|"
                r"apologies|invitees?|guests?|observers?|people present|members present|"
                r"introduction of attendees|(list of )?attendees( list)?)$", re.I),
     "an attendee list"),
    (re.compile(r"^(links?|resources|references|related (documents|links)|documents|materials|"
                r"reading|further reading|table of contents|contents)$", re.I), "a list of links"),
    (re.compile(r"^(logistics|registration|dial[- ]?in( details)?|how to join|venue|hotels?|"
                r"travel|remote participation)$", re.I), "logistics"),
)


def not_agenda_heading(source: str) -> str | None:
    """Why a sub-heading is no agenda entry (attendees, links, logistics), or None."""
    name = " ".join(re.sub(r"[^\w\s-]", " ", plain_text(source)).split())
    name = _NUMBERING.sub("", name)
    for pattern, why in _ASIDE_HEADINGS:
        if pattern.match(name):
            return why
    return None


def link_only(children: Sequence[Token]) -> bool:
    """True when an inline run is links and at most one word besides them (a bold key
    before them, `**Recording**: <url>`, is no word)."""
    if not any(token.type == "link_open" for token in children):
        return False  # no link at all (most entries): no need to count words
    words: list[str] = []
    depth = links = strong = 0
    for token in children:
        if token.type == "link_open":
            depth += 1
            links += 1
        elif token.type == "link_close":
            depth -= 1
        elif token.type == "strong_open":
            strong += 1
        elif token.type == "strong_close":
            strong -= 1
        elif token.type in ("text", "code_inline") and depth == 0 and not strong:
            words += re.findall(r"[^\W_]+", token.content)
        elif token.type in _BREAKS:
            break
    return links > 0 and len(words) <= 1


# Brackets ----------------------------------------------------------------------------------------

def escape_task_boxes(text: str) -> str:
    """`- [ ] task` boxes are Markdown, not disputed text: escape them."""
    return _TASK_IN_TEXT.sub(lambda m: f"{m.group(1)}\\[{m.group(2)}\\]", text)


def escape_brackets(text: str) -> str:
    """Escape every square bracket that would read as disputed text (--literal-brackets)."""
    positions: set[int] = set()
    for group in brackets.parse(text):
        for option in group.options:
            positions.update((option.start, option.end - 1))
    if not positions:
        return text
    return "".join(f"\\{c}" if i in positions else c for i, c in enumerate(text))


_DEFINITION = re.compile(r"^ {0,3}\[((?:[^\]\\\n]|\\.){1,999})\]:")
_REFERENCE = re.compile(r"\[((?:[^\]\\\n]|\\.){1,999})\](?!\()")


def definition_label(line: str) -> str | None:
    m = _DEFINITION.match(line)
    return " ".join(m.group(1).split()).casefold() if m else None


def used_labels(text: str) -> set[str]:
    """Labels a text may refer to by reference link (`[a][b]`, `[b][]`, `[b]`)."""
    return {" ".join(m.group(1).split()).casefold() for m in _REFERENCE.finditer(text)}


def strip_tags(text: str) -> str:
    return _TAG.sub("", text)


# Block tokens without the parser ---------------------------------------------------------------

# The lines an outline of many items is made of, when nothing else is in it: a blank line, an
# ATX heading, a list entry, a plain paragraph line. Each text starts with a letter (or with
# digits that are no list number) and ends in no space, so it can open no other block (quote,
# fence, code, HTML, table, link definition, rule, setext underline) and no text is trimmed.
_PLAIN_START = r"(?:[^\W\d_]|\d+(?![\d.)]))"
_FAST_LINE = re.compile(
    r"(?P<hashes>#{1,6}) (?P<heading>[^\s#](?:.*[^\s#])?)"
    rf"|(?:(?P<bullet>[-*+])|(?P<number>\d{{1,9}})(?P<delim>[.)])) (?P<entry>{_PLAIN_START}"
    r"(?:.*\S)?)"
    rf"|(?P<plain>{_PLAIN_START}(?:.*\S)?)"
    r"|[ \t]*")
_BLANK, _HEADING, _ENTRY, _PLAIN = 0, 1, 2, 3


def _fast_lines(lines: Sequence[str]) -> list[tuple[int, Any, Any, Any]] | None:
    """Each line's kind and parts, or None when any line is outside the plain shapes."""
    out: list[tuple[int, Any, Any, Any]] = []
    match = _FAST_LINE.fullmatch
    for line in lines:
        if not line:
            out.append((_BLANK, None, None, None))
            continue
        found = match(line)
        if found is None:
            return None
        group = found.group
        if found.lastgroup == "heading":
            out.append((_HEADING, len(group("hashes")), group("heading"), None))
        elif found.lastgroup == "entry":
            bullet = group("bullet")
            out.append((_ENTRY, bullet or group("delim"), group("entry"),
                        None if bullet else group("number")))
        elif found.lastgroup == "plain":
            out.append((_PLAIN, None, line, None))
        elif line.strip(" \t"):
            return None  # a space that is not markdown-it's (a no-break space, say)
        else:
            out.append((_BLANK, None, None, None))
    return out


_new = object.__new__
# Every token's attributes and meta are empty here but a link's: one read-only mapping
# stands for them all (two dicts a token, half a million tokens), and equals `{}`.
_NOTHING: Any = MappingProxyType({})


def _token(type: str, tag: str, nesting: Literal[-1, 0, 1], *, map: list[int] | None = None,
           level: int = 0, children: list[Token] | None = None, content: str = "", markup: str = "",
           info: str = "", block: bool = True, attrs: dict[str, Any] | None = None) -> Token:
    """A Token equal to what its constructor makes, at a third of the cost (a dataclass's
    generated `__init__` and `__post_init__`) and less memory: an outline of 100k entries
    makes half a million. Nothing here writes to a token's attributes."""
    token: Token = _new(Token)
    token.type, token.tag, token.nesting, token.map = type, tag, nesting, map
    token.attrs = _NOTHING if attrs is None else attrs
    token.level, token.children, token.content, token.markup = level, children, content, markup
    token.info, token.meta, token.block, token.hidden = info, _NOTHING, block, False
    return token


def fast_blocks(text: str) -> list[Token] | None:
    """markdown-it's block tokens (CommonMark and tables, the inline pass disabled) for a
    document made only of blank lines, ATX headings, list entries of one line (or lines
    continued lazily) and plain paragraphs, built without its parser; None for anything
    else, which the parser reads."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # markdown-it counts no line after the last newline
    elif lines[-1].isspace():
        # Spaces after the last newline: markdown-it-py ends a list before them, not after
        # ('- Trade\n  ': the list maps line 0 alone). Rare enough to leave to the parser.
        return None
    kinds = _fast_lines(lines)
    if kinds is None:
        return None
    total = len(kinds)
    out: list[Token] = []
    push = out.append
    line = 0
    while line < total:
        kind, a, b, c = kinds[line]
        if kind == _BLANK:
            line += 1
        elif kind == _HEADING:
            tag, markup = f"h{a}", "#" * a
            push(_token("heading_open", tag, 1, map=[line, line + 1], markup=markup, block=True))
            push(_token("inline", "", 0, map=[line, line + 1], level=1, children=[], content=b,
                       block=True))
            push(_token("heading_close", tag, -1, markup=markup, block=True))
            line += 1
        elif kind == _PLAIN:
            end = line + 1
            while end < total:
                follow = kinds[end]
                if follow[0] == _PLAIN or (follow[0] == _ENTRY and follow[3] is not None
                                           and int(follow[3]) != 1):
                    end += 1  # an ordered entry not numbered 1 does not interrupt
                else:
                    break
            content = "\n".join(lines[line:end])
            push(_token("paragraph_open", "p", 1, map=[line, end], block=True))
            push(_token("inline", "", 0, map=[line, end], level=1, children=[],
                       content=content, block=True))
            push(_token("paragraph_close", "p", -1, block=True))
            line = end
        else:
            line = _fast_list(kinds, lines, line, out)
    return out


def _fast_list(kinds: list[tuple[int, Any, Any, Any]], lines: list[str], line: int,
               out: list[Token]) -> int:
    """One top-level list from `line`: its entries, each a paragraph; returns its end."""
    total = len(kinds)
    marker, number = kinds[line][1], kinds[line][3]
    ordered = number is not None
    kind = "ordered_list" if ordered else "bullet_list"
    tag = "ol" if ordered else "ul"
    opened = _token(f"{kind}_open", tag, 1, map=[line, 0], markup=marker, block=True)
    if ordered and int(number) != 1:
        opened.attrs = {"start": int(number)}
    out.append(opened)
    first = len(out)
    tight = True
    loose_before = False
    while True:
        _, _, content, number = kinds[line]
        end = line + 1
        while end < total and kinds[end][0] == _PLAIN:
            end += 1  # lazy continuation lines
        if end > line + 1:
            content = "\n".join([content, *lines[line + 1:end]])
        after = end
        while after < total and kinds[after][0] == _BLANK:
            after += 1
        if loose_before:
            tight = False
        loose_before = after - line > 1 and kinds[after - 1][0] == _BLANK
        out.append(_token("list_item_open", "li", 1, map=[line, after], level=1, markup=marker,
                         info=number or "", block=True))
        out.append(_token("paragraph_open", "p", 1, map=[line, end], level=2, block=True))
        out.append(_token("inline", "", 0, map=[line, end], level=3, children=[],
                         content=content, block=True))
        out.append(_token("paragraph_close", "p", -1, level=2, block=True))
        out.append(_token("list_item_close", "li", -1, level=1, markup=marker, block=True))
        line = after
        if line >= total or kinds[line][0] != _ENTRY or kinds[line][1] != marker \
                or (kinds[line][3] is not None) != ordered:
            break
    if tight:
        for token in out[first:]:
            if token.type.startswith("paragraph_"):
                token.hidden = True
    opened.map = [opened.map[0] if opened.map else 0, line]
    out.append(_token(f"{kind}_close", tag, -1, markup=marker, block=True))
    return line
