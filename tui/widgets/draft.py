"""The Draft tab: your delegation's next text for an item, kept per item until saved."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static, TextArea

from agenda.model import Item, Revision, when
from agenda.state import SummitState

DraftKey = tuple[str, str]  # (delegation code, item uuid)


def starting_point(state: SummitState, item: Item) -> Revision | None:
    """Where a new draft starts: the viewer's newer internal draft, else its own position,
    else the latest tabled text."""
    assert state.viewer is not None
    return (state.latest_draft(item) or state.stands_on(item, state.viewer)
            or state.latest(item))


class DraftPane(Vertical):
    """Unsaved text is kept per item while you move around the agenda; the app asks before
    it is lost (quitting, switching delegation). Each text remembers the revision it started
    from (`start`), which becomes its parent when it is saved or tabled."""

    BINDINGS = [
        Binding("ctrl+s", "screen.save_draft", "Save draft"),
        Binding("ctrl+t", "screen.table_draft", "Table…"),
        Binding("ctrl+r", "screen.discard_draft", "Discard"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._key: DraftKey | None = None
        self._baseline = ""
        self._origin: Revision | None = None
        self._start: Revision | None = None  # what the text in the editor was begun from
        self._buffers: dict[DraftKey, tuple[str, Revision | None]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="draft-status", markup=False)
        editor = TextArea(id="draft-editor", soft_wrap=True, language="markdown",
                          show_line_numbers=False)
        editor.border_title = "Draft"
        yield editor
        yield Static(
            "Drafting needs a delegation: press v to act as one. The joint view shows "
            "tabled texts only.",
            id="draft-joint", markup=False,
        )

    @property
    def editor(self) -> TextArea:
        return self.query_one("#draft-editor", TextArea)

    @property
    def text(self) -> str:
        return self.editor.text

    @property
    def start(self) -> Revision | None:
        """The revision the editor's text began from (None: a text begun from nothing)."""
        return self._start

    @property
    def dirty(self) -> bool:
        return self._key is not None and self.editor.text != self._baseline

    def unsaved(self) -> list[str]:
        """Uuids of items with draft text not saved to the workspace."""
        found = [uuid for (_, uuid) in self._buffers]
        if self.dirty and self._key is not None and self._key[1] not in found:
            found.append(self._key[1])
        return found

    def forget_unsaved(self) -> None:
        self._buffers.clear()
        self._key = None

    def show(self, state: SummitState, item: Item) -> None:
        joint = state.viewer is None
        self.set_class(joint, "-joint")
        if joint:
            self._stash()
            self._key = None
            return
        assert state.viewer is not None
        key = (state.viewer, item.uuid)
        origin = starting_point(state, item)
        baseline = origin.text if origin else ""
        if key == self._key:
            # A fresh read of the same item: never touch text the user is writing.
            if not self.dirty:
                self._start = origin
                if baseline != self._baseline:
                    self._load(baseline)
            self._baseline, self._origin = baseline, origin
            self._update_status()
            return
        self._stash()
        self._key, self._baseline, self._origin = key, baseline, origin
        text, self._start = self._buffers.pop(key, (baseline, origin))
        self._load(text)

    def _stash(self) -> None:
        if self._key is None:
            return
        if self.dirty:
            self._buffers[self._key] = (self.editor.text, self._start)
        else:
            self._buffers.pop(self._key, None)

    def _load(self, text: str) -> None:
        # Loading is not editing: it must not mark the draft as changed.
        with self.editor.prevent(TextArea.Changed):
            self.editor.load_text(text)
        self._update_status()

    def saved(self, key: DraftKey, text: str, revision: Revision | None = None) -> None:
        """The workspace now holds `text` for item `key` (as `revision`): it is no longer
        unsaved, and what is written next starts from it."""
        self._buffers.pop(key, None)
        if key == self._key and self.editor.text == text:
            self._baseline = text
            if revision is not None:
                self._start = revision
            self._update_status()

    def discard(self) -> None:
        if self._key is not None:
            self._buffers.pop(self._key, None)
            self._start = self._origin
            self._load(self._baseline)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._update_status()

    def _update_status(self) -> None:
        origin = self._start
        if origin is None:
            line = Content("New text")
        else:
            kind = "internal draft" if not origin.tabled else "tabled"
            line = Content(f"From {origin.delegation} {origin.label} ({kind}, "
                           f"{when(origin.created)})")
        if self.dirty:
            line = line + Content.styled(" · unsaved changes", "bold $text-warning")
        self.query_one("#draft-status", Static).update(line)
