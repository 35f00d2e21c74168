"""The command palette's provider: "Go to 2.3 <title>" for every item, and every action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content


def highlight(matcher: Matcher, text: str) -> Content:
    """The matched letters emphasised, with the text kept plain.

    `Matcher.highlight` reads its candidate as markup, so an item title like `[/]` would
    break it; this builds the same highlight on plain Content.
    """
    content = Content(text)
    _, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style or "bold", offset, offset + 1)
    return content


class AgendaCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        commands = getattr(self.screen, "palette_commands", None)
        return commands() if callable(commands) else []

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            if not title.startswith("Go to "):
                yield DiscoveryHit(Content(title), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), callback, text=title,
                          help=help_text)
