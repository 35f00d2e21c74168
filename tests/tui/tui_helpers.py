"""Helpers for the app's tests: start it, let it settle, read what it painted."""

from __future__ import annotations

import html
import re
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, OptionList, Static, TextArea, Tree
from textual.worker import WorkerCancelled

from tui.app import SummitApp


def make_app(path: Path, *, as_: str | None = None, summit: str | None = None) -> SummitApp:
    app = SummitApp(path, summit=summit, as_=as_)
    app.animation_level = "none"  # pilot waits for animations to end; tests need not watch
    return app


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let workers finish and the screen catch up with what they posted."""
    for _ in range(rounds):
        for _attempt in range(10):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                # The once-a-second disk poll is an exclusive worker: on a loaded machine the
                # next poll cancels one still running, which is not the test's failure.
                continue
        await pilot.pause()


def screen_text(app: SummitApp) -> str:
    """What is painted on the screen, as plain text lines."""
    svg = app.export_screenshot()
    lines: dict[float, list[str]] = {}
    for y, body in re.findall(r'<text[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(y), []).append(html.unescape(body).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(lines.items()))


def widget_text(app: SummitApp) -> str:
    """Every text the top screen holds in its widgets, shown or scrolled away."""
    found: list[str] = []
    screen = app.screen
    for widget in screen.query("*"):
        if isinstance(widget, Static):
            found.append(str(widget.content))
        elif isinstance(widget, TextArea):
            found.append(widget.text)
        elif isinstance(widget, Input):
            found.append(widget.value)
        elif isinstance(widget, DataTable):
            found.extend(str(cell) for row in range(widget.row_count)
                         for cell in widget.get_row_at(row))
        elif isinstance(widget, OptionList):
            found.extend(str(widget.get_option_at_index(i).prompt)
                         for i in range(widget.option_count))
        elif isinstance(widget, Tree):
            stack = [widget.root]
            while stack:
                node = stack.pop()
                found.append(str(node.label))
                stack.extend(node.children)
        elif isinstance(widget, Markdown):
            found.append(widget.source)
    return "\n".join(found)
