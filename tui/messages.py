"""Messages the app's parts send each other, as small dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agenda.model import Revision
from agenda.state import SummitState


@dataclass(eq=False)
class StateLoaded(Message, bubble=False):
    """A fresh read of the summit, as the current viewer may see it.

    The app receives it from its reading thread and hands a copy to every open screen; it
    must not bubble back up from a screen to the app.
    """

    state: SummitState


@dataclass(eq=False)
class CompareRevisions(Message):
    """Two revisions were picked in the history to be diffed."""

    older: Revision
    newer: Revision
