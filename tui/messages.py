"""Messages the app's parts send each other."""

from __future__ import annotations

from textual.message import Message

from agenda.model import Revision
from agenda.state import SummitState

# Plain classes, not dataclasses: a dataclass compiles its methods from source at each
# start (about half a millisecond a class, before the first frame).


class StateLoaded(Message, bubble=False):
    """A fresh read of the summit, as the current viewer may see it.

    The app receives it from its reading thread and hands a copy to every open screen; it
    must not bubble back up from a screen to the app.
    """

    def __init__(self, state: SummitState) -> None:
        self.state = state
        super().__init__()


class CompareRevisions(Message):
    """Two revisions were picked in the history to be diffed."""

    def __init__(self, older: Revision, newer: Revision) -> None:
        self.older = older
        self.newer = newer
        super().__init__()
