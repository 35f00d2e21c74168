"""The app's error boundary: a worker that fails becomes a notification, never a closed app."""

from __future__ import annotations

from pathlib import Path

from textual.worker import Worker, WorkerState

from agenda.model import AgendaError
from agenda.text import inert


def failure_message(error: BaseException | None, workspace: Path) -> str:
    """One line for the user: what failed and on which file, never a traceback."""
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        # A failed write (os.write on a full disk) names no file: it was the workspace's.
        where = error.filename or workspace
        text = f"{reason}: {where}. Nothing was changed."
    elif isinstance(error, AgendaError):
        text = str(error)
    else:
        text = f"Unexpected error ({type(error).__name__}): {error}. Nothing was changed."
    return inert(text)


class ReportsWorkerErrors:
    """For screens and widgets that run workers: worker messages do not bubble, so each
    node that starts workers hands their failures to the app's one handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.app.report_failure(event.worker)  # type: ignore[attr-defined]
