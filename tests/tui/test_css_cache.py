"""The parsed CSS kept between runs: a second start parses nothing and paints the same screen;
kept rules are the rules a parse gives (hypothesis); a file this user's app did not write, or
another theme, is parsed as before; the same --as again writes no preference."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from textual.app import App
from textual.css.stylesheet import Stylesheet
from tui_helpers import make_app, settle

from agenda.paths import cache_dir
from tui.config import Preferences
from tui.css_cache import CssCache


async def _start(path: Path) -> tuple[str, CssCache]:
    app = make_app(path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.export_screenshot()
        cache = app.css_cache
    return shown, cache


async def test_a_second_start_parses_no_css_and_paints_the_same(demo_path: Path) -> None:
    cold, first = await _start(demo_path)
    assert first.added > 0 and first.found == 0
    assert first.path.is_file() and first.path.stat().st_mode & 0o077 == 0
    warm, second = await _start(demo_path)
    assert second.added == 0 and second.found == first.added  # every parse came from the file
    assert warm == cold


async def test_a_file_not_signed_with_this_users_key_is_parsed_again(demo_path: Path) -> None:
    _, first = await _start(demo_path)
    data = bytearray(first.path.read_bytes())
    data[-1] ^= 1  # one bit of the pickled rules
    first.path.write_bytes(bytes(data))
    assert CssCache().kept == {}
    _, second = await _start(demo_path)
    assert second.found == 0 and second.added > 0
    # Kept anew, signed: the next start finds it again.
    assert CssCache().kept


def test_a_key_others_may_read_vouches_for_nothing() -> None:
    cache = CssCache()
    assert cache.key is not None
    key = cache_dir() / "css.key"
    os.chmod(key, 0o644)
    assert CssCache().key is None and CssCache().kept == {}


PROPERTIES = st.sampled_from([
    ("color", ["red", "$primary", "$text-muted", "ansi_bright_blue", "#aabbcc 50%"]),
    ("background", ["$surface", "$panel-lighten-1", "transparent", "blue 20%"]),
    ("height", ["auto", "1fr", "3", "50%", "100vh"]),
    ("padding", ["0 1", "1", "1 2 0 3"]),
    ("border", ["round $accent", "none", "tall $primary 40%"]),
    ("text-style", ["bold", "italic underline", "none"]),
    ("dock", ["top", "bottom"]),
    ("display", ["none", "block"]),
])
SELECTORS = st.sampled_from(["Screen", "#agenda", ".-narrow #filter", "Tree > .tree--label",
                             "Input:focus", "#body Vertical", "TabBar.-wide", "*"])


@st.composite
def stylesheets(draw: st.DrawFn) -> str:
    rules = []
    for _ in range(draw(st.integers(1, 6))):
        selector = draw(SELECTORS)
        lines = []
        for name, values in draw(st.lists(PROPERTIES, min_size=1, max_size=4)):
            lines.append(f"    {name}: {draw(st.sampled_from(values))};")
        rules.append(selector + " {\n" + "\n".join(lines) + "\n}")
    return "\n".join(rules)


THEME_VARIABLES = App().get_css_variables()


@given(css=stylesheets(), default=st.booleans(), tie=st.integers(-2, 2))
def test_kept_rules_are_the_rules_a_parse_gives(css: str, default: bool, tie: int) -> None:
    variables = THEME_VARIABLES
    parsed = Stylesheet(variables=variables)._parse_rules(css, ("t.tcss", ""), default, tie)
    writer = CssCache()
    writer.used.clear()
    first = Stylesheet(variables=variables)
    writer.install(first)
    first._parse_rules(css, ("t.tcss", ""), default, tie)
    writer.save()
    reader = CssCache()
    second = Stylesheet(variables=variables)
    reader.install(second)
    kept = second._parse_rules(css, ("t.tcss", ""), default, tie)
    assert reader.found == 1 and reader.added == 0
    assert [rule.css for rule in kept] == [rule.css for rule in parsed]
    assert [(str(r.selector_set), r.is_default_rules, r.tie_breaker, r.selector_names,
             r.pseudo_classes, r.styles.get_rules()) for r in kept] == [
        (str(r.selector_set), r.is_default_rules, r.tie_breaker, r.selector_names,
         r.pseudo_classes, r.styles.get_rules()) for r in parsed]
    # Other variables (another theme): parsed again, not taken from the file.
    other = Stylesheet(variables={**variables, "primary": "#ff0000"})
    third = CssCache()
    third.install(other)
    other._parse_rules(css, ("t.tcss", ""), default, tie)
    assert third.found == 0 and third.added == 1


def test_the_same_acting_as_again_writes_nothing(tmp_path: Path) -> None:
    prefs = Preferences(tmp_path / "config")
    workspace = tmp_path / "w.json"
    prefs.remember_acting_as(workspace, "IN")
    before = prefs.path.stat()
    prefs.remember_acting_as(workspace, "IN")
    after = prefs.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert prefs.acting_as(workspace) == "IN"
    prefs.remember_acting_as(workspace, "RU")  # a change is still written
    assert prefs.acting_as(workspace) == "RU"


async def test_the_theme_variables_tokens_are_kept_and_are_textuals(demo_path: Path) -> None:
    """The second start reads the variables' tokens from the file, as Textual tokenizes them."""
    from textual.css.tokenize import tokenize_values

    await _start(demo_path)
    app = make_app(demo_path, as_="IN")
    stylesheet = app.stylesheet
    kept = stylesheet._Stylesheet__variable_tokens  # type: ignore[attr-defined]
    assert kept is not None  # read from the file, before anything asked for them
    assert kept == tokenize_values(stylesheet._variables)
    # Another theme's variables are tokenized by Textual as before.
    stylesheet.set_variables({**stylesheet._variables, "primary": "#123456"})
    assert stylesheet._variable_tokens == tokenize_values(stylesheet._variables)
