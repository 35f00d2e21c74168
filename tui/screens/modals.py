"""Small modal forms; each returns a typed result with dismiss(), or None when cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
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
from tui.render import status_label

if TYPE_CHECKING:
    from agenda.templates import TemplateInfo

T = TypeVar("T")


class Modal(ModalScreen[T]):
    """A dialog box: escape cancels (returns None); ctrl+s presses its main button."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "OK"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        for button in self.query("#ok").results(Button):
            button.press()

    def buttons(self, ok: str, *, variant: str = "primary") -> Horizontal:
        return Horizontal(
            Button(ok, id="ok", variant=variant),  # type: ignore[arg-type]
            Button("Cancel", id="cancel"),
            classes="buttons",
        )

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Modal[bool]):
    def __init__(self, question: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, markup=False)
            yield self.buttons(self.yes, variant="warning")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _yes(self) -> None:
        self.dismiss(True)


@dataclass(frozen=True)
class TableForm:
    code: Code
    justification: str


class TableDraftScreen(Modal[TableForm]):
    """Choose the change code and say why; NOC restates the other side's text unchanged."""

    def __init__(self, number: str, other: str | None) -> None:
        super().__init__()
        self.number = number
        self.other = other

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Table your draft of item {self.number}", classes="dialog-title")
            yield Label("Change code")
            yield Select(
                [("MOD  modify the text", Code.MOD), ("SUP  suppress (delete) the text", Code.SUP),
                 ("NOC  no change: restate the other side's text", Code.NOC)],
                value=Code.MOD, allow_blank=False, id="code",
            )
            yield Label("Justification")
            yield Input(placeholder="Why this text (shown to the other side)",
                        id="justification")
            yield Static(id="code-hint", markup=False)
            yield self.buttons("Table")

    def on_mount(self) -> None:
        self.query_one("#justification", Input).focus()

    @on(Select.Changed, "#code")
    def _hint(self, event: Select.Changed) -> None:
        hint = ""
        if event.value == Code.NOC:
            whose = f"{self.other}'s" if self.other else "the other side's"
            hint = f"NOC tables {whose} latest text unchanged; your draft text is not used."
        self.query_one("#code-hint", Static).update(hint)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        code = self.query_one("#code", Select).value
        assert isinstance(code, Code)
        self.dismiss(TableForm(code, self.query_one("#justification", Input).value.strip()))


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
            if targets:
                yield OptionList(*(Option(status_label(s), id=s.value) for s in targets),
                                 id="targets")
            else:
                yield Static("Nothing: a final item stays final.", markup=False)
            yield Horizontal(Button("Cancel", id="cancel"), classes="buttons")

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
            yield Static(f"Merged from {self.sides}: {verdict}.", markup=False)
            with VerticalScroll(classes="preview"):
                yield Static(self.text, markup=False)
            yield self.buttons("Table as CMP")

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


class AddItemScreen(Modal[NewItem]):
    def __init__(self, sections: list[tuple[str, str]], section: str | None) -> None:
        super().__init__()
        self.sections = sections  # (uuid, title)
        self.section = section

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Propose a new item (tabled as ADD)", classes="dialog-title")
            yield Select([(Text(title), uuid) for uuid, title in self.sections],
                         value=self.section or self.sections[0][0], allow_blank=False,
                         id="section")
            yield Input(placeholder="Title", id="title")
            yield TextArea(id="text", soft_wrap=True)
            yield Input(placeholder="Tags, comma separated", id="tags")
            yield Input(placeholder="Justification", id="why")
            yield self.buttons("Propose")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        section = self.query_one("#section", Select).value
        assert isinstance(section, str)
        tags = tuple(t.strip() for t in self.query_one("#tags", Input).value.split(","))
        self.dismiss(NewItem(section, self.query_one("#title", Input).value,
                             self.query_one("#text", TextArea).text,
                             tuple(t for t in tags if t),
                             self.query_one("#why", Input).value.strip()))


class TextScreen(Modal[str]):
    """One line of text: an item title, say."""

    def __init__(self, title: str, value: str = "", *, ok: str = "Save") -> None:
        super().__init__()
        self.heading, self.value, self.ok = title, value, ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield Input(self.value, id="value")
            yield self.buttons(self.ok)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        self.dismiss(self.query_one("#value", Input).value)


class NoteScreen(Modal[str]):
    def __init__(self, heading: str) -> None:
        super().__init__()
        self.heading = heading

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield TextArea(id="note", soft_wrap=True)
            yield self.buttons("Add note")

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        self.dismiss(self.query_one("#note", TextArea).text)


class ChoiceScreen(Modal[str]):
    """Pick one of a few labelled values (a section, a delegation...)."""

    def __init__(self, heading: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading, self.choices = heading, choices  # (value, label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield OptionList(*(Option(Content(label), id=value) for value, label in self.choices),
                             id="choices")
            yield Horizontal(Button("Cancel", id="cancel"), classes="buttons")

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
            if r.justification:
                yield Static(Content.assemble(("Justification: ", "bold"), r.justification))
            with VerticalScroll(classes="preview"):
                yield Static(r.text or "(no text: suppressed)", markup=False)
            yield Horizontal(Button("Close", id="cancel"), classes="buttons")


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


class CreateSummitScreen(Modal[SummitForm]):
    """A new summit with the starter sections (Political & Strategic, Trade & Economic...)."""

    def __init__(self, initial: SummitForm | None = None, *, importing: bool = False) -> None:
        super().__init__()
        self.initial = initial
        self.importing = importing

    def compose(self) -> ComposeResult:
        first = self.initial
        delegations = "\n".join(f"{d.code}={d.name}" + (f":{d.head}" if d.head else "")
                                for d in first.delegations) if first else "IN=India\nRU=Russia"
        with Vertical(classes="dialog wide form"):
            if self.importing:
                yield Label("Import a Markdown agenda as a new summit", classes="dialog-title")
                yield Input(first.source if first else "", id="source",
                            placeholder="Markdown file (## sections, then items)")
            else:
                yield Label("Create a summit", classes="dialog-title")
            yield Input(first.title if first else "", placeholder="Title", id="title")
            yield Label("Delegations, one per line: CODE=Name (or CODE=Name:Head)")
            yield TextArea(delegations, id="delegations")
            yield Input(first.venue if first else "", placeholder="Venue", id="venue")
            yield Input(first.dates if first else "", placeholder="Dates", id="dates")
            if self.importing:
                yield Static("Items are tabled (ADD) by the first delegation.", classes="hint",
                             markup=False)
            else:
                yield Select(
                    [(Text(f"Starter agenda: {info.description or info.name}"), info.name)
                     for info in starter_agendas()],
                    prompt="The usual sections, no items", id="starter",
                    value=first.starter if first and first.starter else Select.NULL)
                yield Static("Without a starter: " + ", ".join(DEFAULT_SECTIONS) + ". A "
                             "starter's suggested items are proposed by the first delegation.",
                             classes="hint", markup=False)
            yield self.buttons("Import" if self.importing else "Create")

    def on_mount(self) -> None:
        self.query_one("#source" if self.importing else "#title", Input).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        try:
            delegations = parse_delegations(self.query_one("#delegations", TextArea).text)
        except AgendaError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        source = self.query_one("#source", Input).value.strip() if self.importing else ""
        starter = "" if self.importing else self.query_one("#starter", Select).value
        self.dismiss(SummitForm(self.query_one("#title", Input).value, delegations,
                                self.query_one("#venue", Input).value,
                                self.query_one("#dates", Input).value, source,
                                starter if isinstance(starter, str) else ""))
