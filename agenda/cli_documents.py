"""Subcommands that produce and read documents: export, import, templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add_parsers(command: Callable[..., Any]) -> None:
    """Register the document subcommands through cli.build_parser's `command` helper."""
