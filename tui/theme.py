"""The app's colours: Textual's dark and light themes, with every text colour at WCAG AA."""

from __future__ import annotations

from dataclasses import replace

from textual.theme import BUILTIN_THEMES, Theme

# WCAG 2 level AA for normal text: the contrast every text colour must reach on every
# background the app paints text on (tests/tui/test_contrast.py checks them all).
AA = 4.5

# Text colours, as Content styles and the stylesheet name them.
TEXT_COLOURS = ("text", "text-muted", "text-primary", "text-secondary", "text-accent",
                "text-warning", "text-error", "text-success",
                # Textual's own widgets: the header's sub-title, the footer's keys.
                "foreground", "foreground-muted", "footer-key-foreground",
                "footer-description-foreground")
# Backgrounds text is painted on: the screen, inputs and dialogs ($panel), the heading.
BACKGROUNDS = ("background", "surface", "panel", "boost")
# Text on its own tinted background: inserted and deleted words (tui.render).
PAIRS = (("text-success", "success-muted"), ("text-error", "error-muted"))

_LIGHT = BUILTIN_THEMES["textual-light"]
_DARK = BUILTIN_THEMES["textual-dark"]

# Textual's light theme derives these from its accent, warning and success colours and its
# "auto 60%" muted text, which reached only 2.6 to 3.3:1 on its greys (issue 12). Darker
# shades of the same hues keep the look and reach AA on the darkest grey, the dialogs'.
LIGHT = replace(_LIGHT, variables={
    **_LIGHT.variables,
    "text-muted": "#555555",
    "text-warning": "#7A4A00",
    "text-accent": "#7A4A00",
    "text-success": "#1A5E2F",
    "success-muted": "#CFE8D6",
    "foreground-muted": "#505050",  # was #1F1F1F at 60%: 4.4:1 on the header
    "footer-key-foreground": "#004F8B",  # was #0178D4: 3.2:1 on the footer
})

# The dark theme's secondary blue (the "negotiating" status) was 3.4:1 on the dialogs' panel.
DARK = replace(_DARK, variables={**_DARK.variables, "text-secondary": "#79A6CF"})

# Registered under Textual's own names: a user's choice of theme keeps working, and the
# command palette offers the corrected colours.
THEMES: tuple[Theme, ...] = (DARK, LIGHT)
