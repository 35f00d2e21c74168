"""Small modal forms; each returns a typed result with dismiss(), or None when cancelled.

Every dialog has the same frame: a title, a scrolling body, its own keys written in it, and
labelled buttons docked at the bottom, so that it fits 80×24 as well as 120×36. A form given a
`submit` job runs it in a thread and stays open, with what was typed, when the workspace
refuses it: the refusal is written beside the field it is about. Escape on a form holding
typed text asks before throwing it away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from agenda.model import (
    TRANSITIONS,
    AgendaError,
    Code,
    Delegation,
    Item,
    Revision,
    Status,
    parse_delegation,
    when,
)
from agenda.workspace import DEFAULT_SECTIONS
from tui.errors import ReportsWorkerErrors
from tui.render import status_label

if TYPE_CHECKING:
    from agenda.templates import TemplateInfo

T = TypeVar("T")


def keys_line(*pairs: tuple[str, str]) -> Static:
    """The dialog's own keys, written inside it (the footer under a dialog is the screen's)."""
    parts: list[str | tuple[str, str]] = []
    for key, what in pairs:
        if parts:
            parts.append(("  ·  ", "$text-muted"))
        parts += [(key, "bold $text-accent"), f" {what}"]
    return Static(Content.assemble(*parts), classes="dialog-keys")


class Body(VerticalScroll, can_focus=False):
    """A dialog's scrolling body: the focus goes to its fields, which scroll into view."""


class Modal(ReportsWorkerErrors, ModalScreen[T]):
    """A dialog box: escape cancels (asking first when text was typed); ctrl+s presses its
    main button."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "OK"),
    ]
    # Words of a refusal -> the id of the field it is written beside (else the first field).
    FIELDS: dict[str, str] = {}

    def __init__(self, *, submit: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.job = submit
        self._typed_at_start: list[str] | None = None
        self._busy = False

    def on_mount(self) -> None:
        self._typed_at_start = self._typed()

    # Typed text ---------------------------------------------------------------------------

    def _typed(self) -> list[str]:
        found: list[str] = []
        for widget in self.query("Input, TextArea"):
            if isinstance(widget, Input):
                found.append(widget.value)
            elif isinstance(widget, TextArea):
                found.append(widget.text)
        return found

    @property
    def has_typed_text(self) -> bool:
        return self._typed_at_start is not None and self._typed() != self._typed_at_start

    def action_cancel(self) -> None:
        if not self.has_typed_text:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard what you typed?", yes="Discard",
                                           no="Keep editing"), answered)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        for button in self.query("#ok").results(Button):
            button.press()

    # The frame ----------------------------------------------------------------------------

    def bottom(self, ok: str | None, *, variant: str = "primary", cancel: str = "Cancel",
               keys: Iterable[tuple[str, str]] = ()) -> ComposeResult:
        """The dialog's keys and its buttons, docked under the scrolling body."""
        shown = list(keys) or ([("ctrl+s", ok)] if ok else [])
        shown.append(("esc", cancel))
        with Vertical(classes="dialog-bottom"):
            yield keys_line(*shown)
            with Horizontal(classes="buttons"):
                if ok:
                    yield Button(ok, id="ok", variant=variant)  # type: ignore[arg-type]
                yield Button(cancel, id="cancel")

    # Submitting ---------------------------------------------------------------------------

    def send(self, form: Any) -> None:
        """Dismiss with the form, or, given a job, run it and dismiss with its result."""
        if self.job is None:
            self.dismiss(form)
            return
        if self._busy:
            return
        self._busy = True
        self.clear_error()
        self._run(form)

    @work(thread=True, exit_on_error=False, group="dialog")
    def _run(self, form: Any) -> None:
        assert self.job is not None
        try:
            result = self.job(form)
        except AgendaError as error:
            self.app.call_from_thread(self.show_error, str(error))
            return
        except BaseException:
            self.app.call_from_thread(setattr, self, "_busy", False)
            raise
        self.app.call_from_thread(self.dismiss, result)

    def field_for(self, message: str) -> Widget | None:
        lowered = message.lower()
        for word, field in self.FIELDS.items():
            if word in lowered and self.query(field):
                return self.query_one(field)
        fields = [w for w in self.query("Input, TextArea, Select") if w.display]
        return fields[0] if fields else None

    def show_error(self, message: str) -> None:
        """The refusal, written under the field it is about; the dialog stays open."""
        self._busy = False
        self.clear_error()
        field = self.field_for(message)
        error = Static(message, classes="field-error", id="field-error", markup=False)
        if field is not None and field.parent is not None:
            field.parent.mount(error, after=field)
            field.focus()
        else:
            self.query_one(".dialog-body").mount(error)
        self.call_after_refresh(error.scroll_visible)

    def clear_error(self) -> None:
        for old in self.query("#field-error"):
            old.remove()


class ConfirmScreen(Modal[bool]):
    """A question; the focus starts on the safe answer, so Enter never takes the other one.

    `details` (label, resulting status...) and `text` (the words concerned, scrollable) say
    what will happen.
    """

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel",
                 details: Iterable[Content | str] = (), text: str | Content | None = None,
                 title: str | None = None) -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no
        self.details = list(details)
        self.text = text
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog" + (" wide" if self.text is not None else "")):
            if self.heading:
                yield Label(self.heading, classes="dialog-title", markup=False)
            with Body(classes="dialog-body"):
                yield Static(self.question, markup=False, classes="question")
                for line in self.details:
                    yield Static(line, markup=False) if isinstance(line, str) else \
                        Static(line)
                if self.text is not None:
                    with VerticalScroll(classes="preview"):
                        yield Static(self.text or "(no text)", markup=False) \
                            if isinstance(self.text, str) else Static(self.text)
            with Vertical(classes="dialog-bottom"):
                yield keys_line(("enter", "press the focused"), ("tab", "switch"),
                                ("esc", self.no))
                with Horizontal(classes="buttons"):
                    yield Button(self.no, id="cancel")
                    yield Button(self.yes, id="ok", variant="warning")

    # Set before the first focus: focusing the text's scroller first would scroll the
    # question out of sight on a small terminal.
    AUTO_FOCUS = "#cancel"

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_submit(self) -> None:
        """ctrl+s answers nothing here: only a deliberate press of the button does."""

    @on(Button.Pressed, "#ok")
    def _yes(self) -> None:
        self.dismiss(True)


@dataclass(frozen=True)
class TableForm:
    code: Code
    justification: str


@dataclass(frozen=True)
class TablePreview:
    """What tabling with a code would do: the text, its label, the status it leads to, and
    what deserves a second look (an unchanged text...)."""

    text: str
    label: str
    status: Status
    warnings: tuple[str, ...] = ()
    refusal: str = ""


class TableDraftScreen(Modal[Any]):
    """Choose the change code and say why; shows what will be tabled and the status it gives.
    NOC restates the other side's text unchanged."""

    FIELDS = {"justification": "#justification", "noc": "#code", "restate": "#code"}

    def __init__(self, number: str, other: str | None,
                 preview: Callable[[Code], TablePreview] | None = None, *,
                 submit: Callable[[TableForm], Any] | None = None) -> None:
        super().__init__(submit=submit)
        self.number = number
        self.other = other
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Table your draft of item {self.number}", classes="dialog-title")
            with Body(classes="dialog-body"):
                yield Label("Change code")
                yield Select(
                    [("MOD  modify the text", Code.MOD),
                     ("SUP  suppress (delete) the text", Code.SUP),
                     ("NOC  no change: restate the other side's text", Code.NOC)],
                    value=Code.MOD, allow_blank=False, id="code",
                )
                yield Label("Justification (shown to the other side)")
                yield Input(placeholder="Why this text", id="justification")
                yield Static(id="code-hint", markup=False)
                yield Static(id="outcome")
                yield Static(id="warnings", classes="warning")
                with VerticalScroll(classes="preview"):
                    yield Static(id="tabled-text", markup=False)
            yield from self.bottom("Table", keys=[("ctrl+s", "Table"), ("tab", "next field")])

    def on_mount(self) -> None:
        self.query_one("#code-hint", Static).display = False  # shown for NOC only
        self.query_one("#justification", Input).focus()
        self._show_preview()

    def _code(self) -> Code:
        code = self.query_one("#code", Select).value
        assert isinstance(code, Code)
        return code

    def _warnings(self) -> list[str]:
        found = []
        if self.preview is not None:
            found += list(self.preview(self._code()).warnings)
        if not self.query_one("#justification", Input).value.strip():
            found.append("The justification is empty: the other side will see no reason.")
        return found

    def _show_preview(self) -> None:
        warnings = "\n".join(f"! {w}" for w in self._warnings())
        self.query_one("#warnings", Static).update(warnings)
        if self.preview is None:
            return
        seen = self.preview(self._code())
        if seen.refusal:
            outcome = Content.styled(seen.refusal, "$text-error")
        else:
            outcome = Content.assemble("Tabled as ", (seen.label, "bold"), "; the item becomes ",
                                       status_label(seen.status), ".")
        self.query_one("#outcome", Static).update(outcome)
        self.query_one("#tabled-text", Static).update(seen.text or "(no text: suppressed)")

    @on(Select.Changed, "#code")
    def _hint(self, event: Select.Changed) -> None:
        hint = ""
        if event.value == Code.NOC:
            whose = f"{self.other}'s" if self.other else "the other side's"
            hint = f"NOC tables {whose} latest text unchanged; your draft text is not used."
        self.query_one("#code-hint", Static).update(hint)
        self.query_one("#code-hint", Static).display = bool(hint)
        self._show_preview()

    @on(Input.Changed, "#justification")
    def _typed_why(self) -> None:
        self._show_preview()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        form = TableForm(self._code(), self.query_one("#justification", Input).value.strip())
        warnings = self._warnings()
        if not warnings:
            self.send(form)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.send(form)

        self.app.push_screen(ConfirmScreen(
            "Table it anyway?", yes="Table anyway", no="Back to the form",
            details=warnings, title=f"Item {self.number}: a second look"), answered)


class StatusScreen(Modal[Status]):
    """Only the moves the transition table allows are offered."""

    def __init__(self, item: Item) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        targets = sorted(TRANSITIONS[self.item.status], key=list(Status).index)
        with Vertical(classes="dialog"):
            yield Static(Content.assemble(f"Item {self.item.number} is ",
                                          status_label(self.item.status),
                                          ". Move it to:"), classes="dialog-title")
            with Body(classes="dialog-body"):
                if targets:
                    # Plain words: a status colour on the highlight bar can be unreadable.
                    yield OptionList(*(Option(Content(s.value), id=s.value) for s in targets),
                                     id="targets")
                else:
                    yield Static("Nothing: a final item stays final.", markup=False)
            yield from self.bottom(None, keys=[("↑↓", "choose"), ("enter", "take it")])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(Status(event.option.id))


class CompilationScreen(Modal[bool]):
    """The merged text, divergent spans as labelled bracket options, to table as CMP."""

    def __init__(self, number: str, text: str, conflicts: int, sides: str) -> None:
        super().__init__()
        self.number, self.text, self.conflicts, self.sides = number, text, conflicts, sides

    def compose(self) -> ComposeResult:
        verdict = ("a clean text: no brackets" if not self.conflicts else
                   f"{self.conflicts} bracket{'s' if self.conflicts != 1 else ''}")
        with Vertical(classes="dialog wide"):
            yield Label(f"Compilation text of item {self.number}", classes="dialog-title")
            with Body(classes="dialog-body"):
                yield Static(f"Merged from {self.sides}: {verdict}.", markup=False)
                with VerticalScroll(classes="preview"):
                    yield Static(self.text, markup=False)
            yield from self.bottom("Table as CMP")

    @on(Button.Pressed, "#ok")
    def _table(self) -> None:
        self.dismiss(True)


@dataclass(frozen=True)
class NewItem:
    section: str  # section uuid
    title: str
    text: str
    tags: tuple[str, ...]
    why: str


class AddItemScreen(Modal[Any]):
    FIELDS = {"title": "#title", "text": "#text", "section": "#section",
              "justification": "#why", "tag": "#tags"}

    def __init__(self, sections: list[tuple[str, str]], section: str | None, *,
                 submit: Callable[[NewItem], Any] | None = None) -> None:
        super().__init__(submit=submit)
        self.sections = sections  # (uuid, title)
        self.section = section

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Propose a new item (tabled as ADD)", classes="dialog-title")
            with Body(classes="dialog-body"):
                yield Select([(Text(title), uuid) for uuid, title in self.sections],
                             value=self.section or self.sections[0][0], allow_blank=False,
                             id="section")
                yield Input(placeholder="Title", id="title")
                yield Label("Text")
                yield TextArea(id="text", soft_wrap=True)
                yield Input(placeholder="Tags, comma separated", id="tags")
                yield Input(placeholder="Justification", id="why")
            yield from self.bottom("Propose", keys=[("ctrl+s", "Propose"),
                                                    ("tab", "next field")])

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        section = self.query_one("#section", Select).value
        assert isinstance(section, str)
        tags = tuple(t.strip() for t in self.query_one("#tags", Input).value.split(","))
        self.send(NewItem(section, self.query_one("#title", Input).value,
                          self.query_one("#text", TextArea).text,
                          tuple(t for t in tags if t),
                          self.query_one("#why", Input).value.strip()))


class TextScreen(Modal[Any]):
    """One line of text: an item title, say."""

    def __init__(self, title: str, value: str = "", *, ok: str = "Save",
                 submit: Callable[[str], Any] | None = None) -> None:
        super().__init__(submit=submit)
        self.heading, self.value, self.ok = title, value, ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            with Body(classes="dialog-body"):
                yield Input(self.value, id="value")
            yield from self.bottom(self.ok, keys=[("enter", self.ok)])

    def on_mount(self) -> None:
        self.query_one("#value", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        self.send(self.query_one("#value", Input).value)


class NoteScreen(Modal[Any]):
    def __init__(self, heading: str, *, submit: Callable[[str], Any] | None = None) -> None:
        super().__init__(submit=submit)
        self.heading = heading

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            with Body(classes="dialog-body"):
                yield TextArea(id="note", soft_wrap=True)
            yield from self.bottom("Add note")

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        self.send(self.query_one("#note", TextArea).text)


class ChoiceScreen(Modal[str]):
    """Pick one of a few labelled values (a section, a delegation...)."""

    def __init__(self, heading: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading, self.choices = heading, choices  # (value, label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            with Body(classes="dialog-body"):
                yield OptionList(*(Option(Content(label), id=value)
                                   for value, label in self.choices), id="choices")
            yield from self.bottom(None, keys=[("↑↓", "choose"), ("enter", "take it")])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(event.option.id)


class RevisionScreen(Modal[None]):
    """A revision's full text and record."""

    BINDINGS = [Binding("escape,enter,q", "cancel", "Close")]

    def __init__(self, number: str, revision: Revision, accepted_by: frozenset[str]) -> None:
        super().__init__()
        self.number, self.revision, self.accepted_by = number, revision, accepted_by

    def compose(self) -> ComposeResult:
        r = self.revision
        kind = "tabled" if r.tabled else "internal draft"
        accepted = f" · accepted by {', '.join(sorted(self.accepted_by))}" \
            if r.tabled and self.accepted_by else ""
        with Vertical(classes="dialog wide"):
            yield Label(f"Item {self.number} {r.label}: {r.code.value} by {r.delegation}, "
                        f"{kind}, {when(r.created)} UTC{accepted}", classes="dialog-title",
                        markup=False)
            with Body(classes="dialog-body"):
                if r.justification:
                    yield Static(Content.assemble(("Justification: ", "bold"), r.justification))
                yield Static(r.text or "(no text: suppressed)", markup=False)
            yield from self.bottom(None, cancel="Close", keys=[("enter", "Close")])


@dataclass(frozen=True)
class SummitForm:
    title: str
    delegations: tuple[Delegation, ...]
    venue: str
    dates: str
    source: str = ""  # a Markdown agenda file to import, when importing
    starter: str = ""  # a starter agenda to lay the summit out from ("" = the usual sections)


def parse_delegations(lines: str) -> tuple[Delegation, ...]:
    """One `CODE=Name` (or `CODE=Name:Head`) a line, read as the CLI reads --delegation."""
    found = []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(parse_delegation(line))
        except AgendaError as error:
            raise AgendaError(f"Delegation line {number}: {error}") from None
    return tuple(found)


def starter_agendas() -> list[TemplateInfo]:
    from agenda.templates import list_templates

    return [info for info in list_templates() if info.kind == "starter"]


class CreateSummitScreen(Modal[Any]):
    """A new summit with the starter sections (Political & Strategic, Trade & Economic...)."""

    FIELDS = {"delegation": "#delegations", "title": "#title", "slug": "#title",
              "venue": "#venue", "dates": "#dates", "file": "#source", "read": "#source",
              "starter": "#starter", "template": "#starter"}

    def __init__(self, initial: SummitForm | None = None, *, importing: bool = False,
                 submit: Callable[[SummitForm], Any] | None = None) -> None:
        super().__init__(submit=submit)
        self.initial = initial
        self.importing = importing

    def compose(self) -> ComposeResult:
        first = self.initial
        delegations = "\n".join(f"{d.code}={d.name}" + (f":{d.head}" if d.head else "")
                                for d in first.delegations) if first else "IN=India\nRU=Russia"
        with Vertical(classes="dialog wide form"):
            if self.importing:
                yield Label("Import a Markdown agenda as a new summit", classes="dialog-title")
            else:
                yield Label("Create a summit", classes="dialog-title")
            with Body(classes="dialog-body"):
                if self.importing:
                    yield Input(first.source if first else "", id="source",
                                placeholder="Markdown file (## sections, then items)")
                yield Input(first.title if first else "", placeholder="Title", id="title")
                yield Label("Delegations, one per line: CODE=Name (or CODE=Name:Head)")
                yield TextArea(delegations, id="delegations")
                yield Input(first.venue if first else "", placeholder="Venue", id="venue")
                yield Input(first.dates if first else "", placeholder="Dates", id="dates")
                if self.importing:
                    yield Static("Items are tabled (ADD) by the first delegation.",
                                 classes="hint", markup=False)
                else:
                    yield Select(
                        [(Text(f"Starter agenda: {info.description or info.name}"), info.name)
                         for info in starter_agendas()],
                        prompt="The usual sections, no items", id="starter",
                        value=first.starter if first and first.starter else Select.NULL)
                    yield Static("Without a starter: " + ", ".join(DEFAULT_SECTIONS) + ". A "
                                 "starter's suggested items are proposed by the first "
                                 "delegation.", classes="hint", markup=False)
            ok = "Import" if self.importing else "Create"
            yield from self.bottom(ok, keys=[("ctrl+s", ok), ("tab", "next field")])

    def on_mount(self) -> None:
        self.query_one("#source" if self.importing else "#title", Input).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        try:
            delegations = parse_delegations(self.query_one("#delegations", TextArea).text)
        except AgendaError as error:
            self.show_error(str(error))
            return
        source = self.query_one("#source", Input).value.strip() if self.importing else ""
        starter = "" if self.importing else self.query_one("#starter", Select).value
        self.send(SummitForm(self.query_one("#title", Input).value, delegations,
                             self.query_one("#venue", Input).value,
                             self.query_one("#dates", Input).value, source,
                             starter if isinstance(starter, str) else ""))
