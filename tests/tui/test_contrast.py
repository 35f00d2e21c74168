"""Every text and status colour reaches WCAG AA (4.5:1) on every background, in both themes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.color import Color
from textual.theme import BUILTIN_THEMES, Theme

from tui.app import SummitApp
from tui.render import DELETED, INSERTED, STATUS_STYLE
from tui.theme import AA, BACKGROUNDS, PAIRS, TEXT_COLOURS, THEMES

TUI = Path(__file__).resolve().parents[2] / "tui"


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance of an opaque sRGB colour."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variables(theme: Theme) -> dict[str, str]:
    """The theme's colour variables as the app builds them (App.get_css_variables)."""
    return {**theme.to_color_system().generate(), **theme.variables}


def resolve(value: str, under: Color) -> Color:
    """A variable's value painted over `under`: "auto 60%" is the contrasting colour at 60%,
    a translucent colour is blended, as Textual does when it paints."""
    name, *alpha = value.split()
    opacity = float(alpha[0].rstrip("%")) / 100 if alpha else 1.0
    colour = (under.get_contrast_text(opacity) if name == "auto"
              else Color.parse(name).multiply_alpha(opacity))
    return under + colour


def background(names: dict[str, str], name: str) -> Color:
    screen = Color.parse(names["background"])
    return resolve(names[name], screen)


def test_the_ratio_is_wcag_and_finds_what_issue_12_measured() -> None:
    assert contrast(Color.parse("#000000"), Color.parse("#FFFFFF")) == pytest.approx(21.0)
    assert contrast(Color.parse("#777777"), Color.parse("#FFFFFF")) == pytest.approx(4.48, 0.01)
    old = variables(BUILTIN_THEMES["textual-light"])
    inserted = contrast(Color.parse(old["text-success"]), background(old, "success-muted"))
    assert inserted == pytest.approx(3.15, abs=0.01)  # the light theme before this fix
    assert contrast(Color.parse(old["text-warning"]), background(old, "panel")) < 3


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
@pytest.mark.parametrize("text", TEXT_COLOURS)
def test_text_colours_reach_aa_on_every_background(theme: Theme, text: str) -> None:
    names = variables(theme)
    for ground in BACKGROUNDS:
        under = background(names, ground)
        ratio = contrast(resolve(names[text], under), under)
        assert ratio >= AA, f"{theme.name}: ${text} on ${ground} is {ratio:.2f}:1"


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
@pytest.mark.parametrize(("text", "ground"), PAIRS)
def test_inserted_and_deleted_words_reach_aa(theme: Theme, text: str, ground: str) -> None:
    names = variables(theme)
    under = background(names, ground)
    ratio = contrast(resolve(names[text], under), under)
    assert ratio >= AA, f"{theme.name}: ${text} on ${ground} is {ratio:.2f}:1"


def test_every_colour_the_app_paints_text_in_is_checked() -> None:
    """Status colours, the diff's colours, and every $text-… in the stylesheet and the code
    are among the colours checked above."""
    used: set[str] = set()
    for style in [*STATUS_STYLE.values(), INSERTED, DELETED]:
        used.update(re.findall(r"\$(text[\w-]*)", style))
    for path in [*TUI.rglob("*.py"), *TUI.rglob("*.tcss")]:
        used.update(re.findall(r"\$(text(?:-[a-z]+)?)\b", path.read_text(encoding="utf-8")))
    assert used <= set(TEXT_COLOURS), used - set(TEXT_COLOURS)
    pairs = {tuple(re.findall(r"\$([\w-]+)", style)) for style in (INSERTED, DELETED)}
    assert pairs <= set(PAIRS)


async def test_the_app_paints_with_these_themes(tmp_path: Path) -> None:
    app = SummitApp(tmp_path / "ws.json", config=tmp_path / "config")
    for theme in THEMES:
        assert app.get_theme(theme.name) is theme
    async with app.run_test() as pilot:
        for theme in THEMES:  # the first one from the start, the other after a switch
            app.theme = theme.name
            await pilot.pause()
            for name, value in theme.variables.items():
                assert app.stylesheet._variables[name] == value
