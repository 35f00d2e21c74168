"""User folders (agenda/paths.py) and the app's preferences file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agenda import paths
from tui.config import Preferences


def test_the_test_suite_never_sees_the_real_user_folders(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    assert home.name.startswith("home") and str(home).startswith(str(tmp_path.parents[1]))
    assert str(paths.config_dir()).startswith(str(home))
    assert str(paths.demo_path()).startswith(str(home))


def test_undoing_a_tests_own_patches_keeps_the_user_folders_isolated(
        monkeypatch: pytest.MonkeyPatch) -> None:
    isolated = {name: os.environ[name] for name in
                ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    monkeypatch.setenv("XDG_CACHE_HOME", "/elsewhere")
    monkeypatch.undo()  # as several tests do, to stop one patch halfway
    assert {name: os.environ[name] for name in isolated} == isolated
    assert Path(isolated["HOME"]).name.startswith("home")


def test_the_default_workspace_follows_the_environment(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_DB, str(tmp_path / "w.json"))
    assert paths.default_workspace_path() == tmp_path / "w.json"
    monkeypatch.delenv(paths.ENV_DB)
    data = Path(os.environ["XDG_DATA_HOME"])
    assert paths.default_workspace_path() == data / "summit-agenda" / "workspace.json"
    assert paths.demo_path() == data / "summit-agenda" / "demo.json"


def test_templates_live_in_the_config_folder(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.user_templates_dir() == Path(os.environ["XDG_CONFIG_HOME"]) / \
        "summit-agenda" / "templates"
    monkeypatch.setenv(paths.ENV_CONFIG_DIR, str(tmp_path / "conf"))
    assert paths.user_templates_dir() == tmp_path / "conf" / "templates"


def test_backups_go_beside_the_workspace_or_where_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, other = tmp_path / "a" / "ws.json", tmp_path / "b" / "ws.json"
    assert paths.backups_dir(one) == tmp_path / "a" / "ws.backups"
    monkeypatch.setenv(paths.ENV_BACKUPS, str(tmp_path / "all"))
    assert paths.backups_dir(one).parent == tmp_path / "all"
    # Two workspaces of the same name share the folder without mixing their backups.
    assert paths.backups_dir(one) != paths.backups_dir(other)


def test_preferences_are_private_and_replaced_whole(tmp_path: Path) -> None:
    prefs = Preferences(tmp_path / "config")
    workspace = tmp_path / "ws.json"
    prefs.remember_acting_as(workspace, "IN")
    assert stat.S_IMODE(prefs.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(prefs.path.parent.stat().st_mode) == 0o700
    assert prefs.acting_as(workspace) == "IN"
    inode = prefs.path.stat().st_ino
    prefs.remember_acting_as(workspace, "RU")
    assert prefs.path.stat().st_ino != inode  # a new file renamed over the old one
    assert prefs.acting_as(workspace) == "RU"
    assert [p.name for p in prefs.path.parent.iterdir()] == ["tui.json"]


def test_preferences_that_cannot_be_saved_are_only_forgotten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefs = Preferences(tmp_path / "config")
    prefs.remember_acting_as(tmp_path / "ws.json", "IN")
    real = os.write

    def full(fd: int, data: bytes) -> int:
        if fd > 2:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    prefs.remember_acting_as(tmp_path / "ws.json", "RU")
    monkeypatch.undo()
    assert prefs.acting_as(tmp_path / "ws.json") == "IN"
    assert [p.name for p in prefs.path.parent.iterdir()] == ["tui.json"]


@pytest.mark.parametrize("content", ["[]", '{"acting_as": []}', '{"acting_as": {"x": 3}}',
                                     "not json"])
def test_a_strange_preferences_file_means_no_preference(tmp_path: Path, content: str) -> None:
    prefs = Preferences(tmp_path)
    prefs.path.write_text(content)
    assert prefs.acting_as(tmp_path / "ws.json") is None
    prefs.remember_acting_as(tmp_path / "ws.json", "IN")
    assert json.loads(prefs.path.read_text())["acting_as"][str((tmp_path / "ws.json").resolve())] \
        == "IN"
