"""Render a summit to Markdown or HTML through named Jinja2 templates, without leaking internal
material.

The leak guarantee is structural: a joint template is rendered from the joint SummitState,
which the workspace builds from tabled material only, so a template cannot print what it was
never given. Only a template that declares `view: delegation` gets one delegation's state.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from agenda.diff import diff_words
from agenda.diff_render import render_critic
from agenda.frozen import cached
from agenda.markdown import md_body, md_inline, md_quote
from agenda.model import AgendaError, Delegation, Item, Revision, Status, when
from agenda.state import SummitState, compile_item
from agenda.templates import TemplateInfo, find_template, search_dirs
from agenda.text import document_safe


@lru_cache(maxsize=8192)
def stamp(moment: datetime) -> str:
    # A brief stamps every draft and note: strftime was a tenth of its template time.
    return f"{when(moment)} UTC"


# What templates see --------------------------------------------------------------------------

STATUS_LABELS = {
    Status.PROPOSED: "proposed",
    Status.NEGOTIATING: "under negotiation",
    Status.BRACKETED: "bracketed",
    Status.AGREED_AD_REF: "agreed ad referendum",
    Status.FINAL: "final (confirmed by capitals)",
    Status.DEFERRED: "deferred",
    Status.WITHDRAWN: "withdrawn",
}
AGREED = frozenset({Status.AGREED_AD_REF, Status.FINAL})


class RevisionView:
    """One revision as a template sees it. Its stamp and the sides that accepted it are worked
    out on first use: the redline reads neither, and they were a third of its views' time."""

    def __init__(self, state: SummitState, revision: Revision) -> None:
        self._state = state
        self._revision = revision
        self.label = revision.label
        self.delegation = revision.delegation
        self.code = revision.code.value
        self.text = revision.text
        self.justification = revision.justification

    @cached
    def created(self) -> str:
        return stamp(self._revision.created)

    @cached
    def accepted_by(self) -> tuple[str, ...]:
        revision = self._revision
        return tuple(sorted(self._state.accepted_by(revision))) if revision.tabled else ()


@dataclass(frozen=True)
class NoteView:
    text: str
    created: str


class ChangeView:
    """The redline of one item: `base` → `target` (labels), and `critic`, the word diff between
    their texts as CriticMarkup, computed on first use: an item whose text did not change
    shows none, and pays for none."""

    def __init__(self, base: RevisionView | None, target: RevisionView | None,
                 ahead: Callable[[], None] | None = None) -> None:
        self.base = base
        self.target = target
        self._ahead = ahead

    @property
    def changed(self) -> bool:
        return self.base is None or self.target is None or self.base.text != self.target.text

    @property
    def _edited(self) -> bool:
        """Two texts that differ: what the redline shows as a change, and diffs."""
        return (self.base is not None and self.target is not None
                and self.base.text != self.target.text)

    @cached
    def critic(self) -> str:
        if self._ahead is not None and self._edited:
            self._ahead()  # this item's critic and the next ones', in one go
            if "critic" in self.__dict__:
                return str(self.__dict__["critic"])
        return self._diff()

    def _diff(self) -> str:
        return render_critic(diff_words(self.base.text if self.base else "",
                                        self.target.text if self.target else ""))


class ItemView:
    """One item as a template sees it; costly parts (merge, diff) are computed on first use."""

    def __init__(self, summit: SummitView, state: SummitState, item: Item,
                 index: int) -> None:
        self._summit = summit
        self._state = state
        self._item = item
        self._index = index
        self.number = item.number
        self.title = item.title
        self.section = item.section
        self.owner = item.owner
        self.owner_name = summit.names.get(item.owner, item.owner)
        self.status = item.status.value
        self.status_label = STATUS_LABELS[item.status]
        self.agreed = item.status in AGREED
        self.withdrawn = item.status == Status.WITHDRAWN
        self.tags = item.tags

    def _view(self, revision: Revision) -> RevisionView:
        return RevisionView(self._state, revision)

    @cached
    def tabled(self) -> list[RevisionView]:
        return [self._view(r) for r in self._state.tabled(self._item)]

    @cached
    def revision(self) -> RevisionView | None:
        """The latest tabled text: the agreed text once every side has accepted it."""
        latest = self._state.latest(self._item)
        return self._view(latest) if latest else None

    @property
    def text(self) -> str:
        return self.revision.text if self.revision else ""

    @cached
    def _positions(self) -> dict[str, Revision]:
        # Read once: the table, the heading and the compilation all ask for them.
        return self._state.positions(self._item)

    @cached
    def positions(self) -> list[tuple[str, str]]:
        return [(code, r.label) for code, r in self._positions.items()]

    @cached
    def positions_line(self) -> str:
        """The positions as one line, "IN v3, RU v4" ("" when none): a Jinja loop per item
        and per place cost the negotiating text about a tenth of its time."""
        return ", ".join(f"{code} {r.label}" for code, r in self._positions.items())

    @cached
    def compilation(self) -> str:
        """The rolling text: the sides' positions merged, divergences in labelled brackets."""
        self._summit._compile_ahead(self._index)  # this item's and the next ones', in one go
        if "compilation" in self.__dict__:
            return str(self.__dict__["compilation"])
        return self._compile()

    def _compile(self) -> str:
        if not self._positions:
            return ""
        return compile_item(self._state, self._item,
                            positions=self._positions).result.text

    @cached
    def brackets(self) -> int:
        # The rules' count (the latest tabled text), the one the tree, the dashboard and
        # `summit brackets` show; the compilation above may hold more options than that
        # (its own count is kept with its merge: MergeResult.brackets).
        return self._state.bracket_count(self._item)

    @cached
    def change(self) -> ChangeView:
        tabled = self._state.tabled(self._item)
        since = self._summit.since_moment
        if since is None:
            base = tabled[-2] if len(tabled) >= 2 else None
        else:
            earlier = [r for r in tabled if r.created <= since]
            base = earlier[-1] if earlier else None
        # The target is the latest tabled text: the view `revision` already made (or will).
        return ChangeView(self._view(base) if base else None,
                          self.revision if tabled else None,
                          lambda: self._summit._diff_ahead(self._index))

    @cached
    def drafts(self) -> list[RevisionView]:
        """The viewer's own internal drafts (a joint state holds none)."""
        viewer = self._state.viewer
        return [self._view(r) for r in self._state.history(self._item)
                if not r.tabled and viewer is not None and r.delegation == viewer]

    @cached
    def notes(self) -> list[NoteView]:
        viewer = self._state.viewer
        return [NoteView(n.text, stamp(n.created)) for n in self._state.item_notes(self._item)
                if viewer is not None and n.delegation == viewer]


@dataclass(frozen=True)
class SectionView:
    number: int
    title: str
    items: list[ItemView]


class SummitView:
    def __init__(self, state: SummitState, since: datetime | None) -> None:
        summit = state.summit
        self.title = summit.title
        self.slug = summit.slug
        self.venue = summit.venue
        self.dates = summit.dates
        self.host = summit.host
        self.preamble = summit.preamble
        self.delegations: tuple[Delegation, ...] = summit.delegations
        self.names = {d.code: d.name for d in summit.delegations}
        self.viewer = summit.delegation(state.viewer) if state.viewer else None
        self.since_moment = since
        self.since = stamp(since) if since else None
        moments = [e.created for e in state.events] or [summit.created]
        # The state's own latest moment, never "now": the same summit renders the same text.
        self.as_of = stamp(max(moments))
        self.items = [ItemView(self, state, item, n) for n, item in enumerate(state.items)]
        by_section: dict[str, list[ItemView]] = {}
        for view, item in zip(self.items, state.items, strict=True):
            by_section.setdefault(item.section_uuid, []).append(view)
        self.sections = [SectionView(n, s.title, by_section.get(s.uuid, []))
                         for n, s in enumerate(summit.sections, start=1)]
        self.agreed = state.agreed()

    def _diff_ahead(self, start: int) -> None:
        """The critics of the item at `start` and of the next edited ones, diffed back to back:
        a template reads them one by one between its lines, and run together the redline's
        500 short diffs cost about a twentieth less (the diff's code and data stay in the
        processor's caches). Bounded, so that a template that reads one item's critic pays
        for a few more at most."""
        for view in self.items[start:start + _DIFF_AHEAD]:
            change = view.change
            if "critic" not in change.__dict__ and change._edited:
                change.__dict__["critic"] = change._diff()

    def _compile_ahead(self, start: int) -> None:
        """The compilations of the item at `start` and the next ones, merged back to back, as
        `_diff_ahead` diffs: the negotiating text and the brief cost about a twentieth less."""
        for view in self.items[start:start + _COMPILE_AHEAD]:
            if "compilation" not in view.__dict__:
                view.__dict__["compilation"] = view._compile()

    @cached
    def total_brackets(self) -> int:
        return sum(item.brackets for item in self.items)

    @property
    def agreed_items(self) -> list[ItemView]:
        return [i for i in self.items if i.agreed]

    @property
    def open_items(self) -> list[ItemView]:
        return [i for i in self.items if not i.agreed and not i.withdrawn]


# How many items' critics (compilations) one read diffs (merges) in a go: 32 kept most of the
# gain of doing the whole summit at once (the redline's HTML 271 against 269 ms, 277 one by
# one; the negotiating text's Markdown 105 against 103 ms, 111 one by one; load 6-7).
_DIFF_AHEAD = 32
_COMPILE_AHEAD = 32


def parse_since(value: str | None) -> datetime | None:
    """--since: a date (2021-03-01, start of the day UTC) or a date and time (UTC if unmarked)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AgendaError(f"--since {value!r} is not a date: use 2021-03-01 or "
                          "2021-03-01T10:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Rendering -----------------------------------------------------------------------------------

_VIEWS = (RevisionView, NoteView, ChangeView, ItemView, SectionView, SummitView)


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a short way to the attributes of this module's own view objects.

    The sandbox weighs every attribute a template reads (is it internal to a function, a
    type, a generator...?): about half of an export's time. On the views above, which are
    none of those, a public name is always safe, which is what that weighing concludes; names
    starting with `_` and every other object still go the long way.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A slice, not `startswith`: a method call here was a tenth of this method's time.
        if type(obj) in _VIEW_TYPES and attribute[:1] != "_":
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


# jinja's own loop variable (`loop.last`) is none of those either.
_VIEW_TYPES = frozenset((*_VIEWS, jinja2.runtime.LoopContext))


@cache
def _environment(folders: tuple[Path, ...]) -> SandboxedEnvironment:
    env = _Sandbox(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=False,  # Markdown, not HTML: the filters below escape for Markdown
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_inline, cell=md_inline, body=md_body, quote=md_quote)
    return env


def load_template(template: TemplateInfo) -> jinja2.Template:
    """The template compiled, once per process while its file is unchanged (Jinja checks)."""
    folders = tuple(dict.fromkeys([template.path.parent,
                                   *(f for _, f in search_dirs(None, "export"))]))
    return _environment(folders).get_template(template.path.name)


def render_state(state: SummitState, template: TemplateInfo, *,
                 since: datetime | None = None) -> str:
    """Render a template over a state already read for the right viewer."""
    if template.view == "joint" and state.viewer is not None:
        raise AgendaError(f"The {template.name} template is a joint document; it is rendered "
                          "from the joint view only")
    if template.view == "delegation" and state.viewer is None:
        raise AgendaError(f"The {template.name} template is one delegation's document")
    try:
        text = load_template(template).render(summit=SummitView(state, since))
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)  # syntax errors know their line; others do not
        where = f" (line {line})" if line else ""
        raise AgendaError(f"Template {template.path} failed{where}: {exc.message}") from None
    # The one way out for every Markdown document, whatever a template or a text holds.
    return document_safe(text if text.endswith("\n") else text + "\n")


def render(
    ws: Any,
    slug: str,
    template: str = "agenda",
    *,
    viewer: str | None = None,
    fmt: Literal["md", "html"] = "md",
    template_dir: Path | None = None,
    since: str | None = None,
) -> str:
    """Export a summit with a named template, as Markdown or as a standalone HTML page.

    A joint template (agenda, negotiating-text, redline) is always rendered from the joint
    view, whoever asks; a delegation template (brief) needs `viewer`.
    """
    info = find_template(template, template_dir)
    moment = parse_since(since)
    if info.view == "delegation":
        if viewer is None:
            codes = ", ".join(ws.state(slug).summit.codes)
            raise AgendaError(f"The {info.name} template is one delegation's internal "
                              f"document: say whose with --as CODE ({codes})")
        state = ws.state(slug, viewer)
    else:
        state = ws.state(slug, None)
    markdown = render_state(state, info, since=moment)
    return markdown if fmt == "md" else to_html(markdown, state.summit.title)


# HTML ----------------------------------------------------------------------------------------

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")


def safe_link(url: str) -> bool:
    """Links keep http, https and mailto, and scheme-less (relative) addresses; nothing else."""
    match = _SCHEME.match(url)
    return match is None or match.group(1).lower() in SAFE_SCHEMES


_CRITIC = {"{++": ("++}", "ins"), "{--": ("--}", "del"), "{~~": ("~~}", "")}


def _critic(state: StateInline, silent: bool) -> bool:
    """CriticMarkup {++ins++} {--del--} {~~old~>new~~} as <ins>/<del>, content still Markdown."""
    start = state.pos
    # Tried at every stop of the inline scan ("[", "*", "_"...): one character rules most out.
    if state.src[start] != "{":
        return False
    opener = state.src[start:start + 3]
    if opener not in _CRITIC:
        return False
    closer, tag = _CRITIC[opener]
    end = state.src.find(closer, start + 3, state.posMax)
    if end < 0:
        return False
    if tag:
        parts = [(tag, start + 3, end)]
    else:
        middle = state.src.find("~>", start + 3, end)
        if middle < 0:
            return False
        parts = [("del", start + 3, middle), ("ins", middle + 2, end)]
    if not silent:
        limit = state.posMax
        for name, a, b in parts:
            state.push(f"{name}_open", name, 1)
            state.pos, state.posMax = a, b
            state.md.inline.tokenize(state)
            state.push(f"{name}_close", name, -1)
        state.posMax = limit
    state.pos = end + 3
    return True


@cache
def html_renderer(critic: bool = True) -> MarkdownIt:
    """CommonMark plus tables and strikethrough; raw HTML shown as text; only safe links.

    `critic=False`: the same renderer without the CriticMarkup rule, the reference the export
    bench measures ours against (markdown-it-py alone, configured as ours).
    """
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.validateLink = safe_link  # type: ignore[method-assign]
    if critic:
        md.inline.ruler.before("emphasis", "critic", _critic)
    return md


PAGE_CSS = """\
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 46rem;
       margin: 2rem auto; padding: 0 1rem; }
h1, h2, h3, h4 { font-family: "Helvetica Neue", Arial, sans-serif; line-height: 1.25; }
h2 { border-bottom: 1px solid #999; padding-bottom: .2rem; margin-top: 2rem; }
h3 { margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #999; padding: .25rem .5rem; text-align: left; vertical-align: top; }
blockquote { margin: .5rem 0; padding-left: 1rem; border-left: 3px solid #bbb; color: #333; }
code, pre { font-family: Menlo, Consolas, monospace; font-size: 90%; }
pre { white-space: pre-wrap; background: #f4f4f4; padding: .5rem; }
ins { color: #064; background: #e6f4ea; text-decoration: underline; }
del { color: #a00; background: #fbe9e9; text-decoration: line-through; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  a { color: inherit; }
  h2, h3 { break-after: avoid; }
  table, blockquote, pre { break-inside: avoid; }
  ins, del { background: none; }
}
"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; img-src http: https:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}</style>
</head>
<body>
<main>
{body}</main>
</body>
</html>
"""


def to_html(markdown: str, title: str) -> str:
    """A standalone, script-free, print-friendly page of an exported Markdown document."""
    return document_safe(_PAGE.format(title=html.escape(title), css=PAGE_CSS,
                                      body=html_renderer().render(markdown)))


def structure(markdown: str) -> list[tuple[int, str]]:
    """The document's outline as (level, text) of its top-level headings (for checks)."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [(int(t.tag[1]), tokens[i + 1].content) for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.level == 0]

