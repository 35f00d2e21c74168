"""The first frame's diffs and merges kept between starts (tui/kept_diffs.py): kept answers
are the engine's (hypothesis); a second start answers its first frame from the file and paints
the same screen; a file this user's app did not write, or another engine's, answers nothing;
once the first frame is out, nothing is answered or noted."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tui_helpers import make_app, settle

from agenda import merge, state
from agenda.diff import diff_words as engine_diff
from tui import kept_diffs
from tui.kept_diffs import KeptDiffs

WORDS = st.sampled_from(["The", "Sides", "agreed", "to", "deepen", "Indo-Pacific", "région",
                         "security", ",", ".", " ", "  ", "\n", "\n\n", "[IN: a]", "(b)",
                         "Asia–Pacific", "2+2", "co-operation", "’s", "\u0301", "日本"])
TEXTS = st.lists(WORDS, max_size=30).map("".join)


def _rows(ops: list[object]) -> list[tuple[object, object, object]]:
    return [(op.op, op.text, op.words) for op in ops]  # type: ignore[attr-defined]


def _fresh_merge(base: str, sides: list[tuple[str, str]], agreed: bool) -> merge.MergeResult:
    assert not merge.GIVEN and merge.NOTED is None
    return merge.merge_texts(base, sides, agreed_base=agreed)


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(TEXTS, TEXTS), min_size=1, max_size=3), base=TEXTS,
       sides=st.lists(TEXTS, min_size=1, max_size=3), agreed=st.booleans())
def test_kept_answers_are_the_engines(pairs: list[tuple[str, str]], base: str,
                                      sides: list[str], agreed: bool) -> None:
    named = [(code, text) for code, text in zip(["IN", "RU", "CN"], sides, strict=False)]
    expected_merge = _fresh_merge(base, named, agreed)
    with tempfile.TemporaryDirectory() as folder:
        writer = KeptDiffs(Path(folder))
        writer.start()
        try:
            for a, b in pairs:
                assert _rows(kept_diffs.diff_words(a, b)) == _rows(engine_diff(a, b))
            assert merge.merge_texts(base, named, agreed_base=agreed) == expected_merge
        finally:
            writer.settle()
        writer.save()
        reader = KeptDiffs(Path(folder))
        reader.start()
        try:
            for a, b in pairs:
                # Op equality leaves the word counts out: compared as rows, counts included.
                assert _rows(kept_diffs.diff_words(a, b)) == _rows(engine_diff(a, b))
            answered = merge.merge_texts(base, named, agreed_base=agreed)
        finally:
            reader.settle()
        assert answered == expected_merge
        assert reader.found == len(pairs) + 1  # every answer from the file
    assert not merge.GIVEN and merge.NOTED is None and kept_diffs._current is None


def test_nothing_is_answered_or_noted_once_settled(tmp_path: Path) -> None:
    kept = KeptDiffs(tmp_path)
    kept.start()
    kept_diffs.diff_words("a b", "a c")
    merge.merge_texts("a b c", [("IN", "a x c"), ("RU", "a y c")])
    kept.settle()
    assert merge.NOTED is None and not merge.GIVEN and kept_diffs._current is None
    kept_diffs.diff_words("d e", "d f")
    merge.merge_texts("d e f", [("IN", "d x f"), ("RU", "d y f")])
    assert list(kept.asked_diffs) == [("a b", "a c")]
    assert [key[0] for key in kept.asked_merges] == ["a b c"]
    kept.save()
    assert KeptDiffs(tmp_path).diffs.keys() == kept.asked_diffs.keys()


def test_a_file_not_signed_with_this_users_key_answers_nothing(tmp_path: Path) -> None:
    kept = KeptDiffs(tmp_path)
    kept.start()
    kept_diffs.diff_words("a b", "a c")
    kept.settle()
    kept.save()
    assert KeptDiffs(tmp_path).diffs
    data = bytearray(kept.path.read_bytes())
    data[-1] ^= 1
    kept.path.write_bytes(bytes(data))
    assert KeptDiffs(tmp_path).diffs == {}


def test_another_engine_keeps_another_file(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    name = kept_diffs._file_name()
    assert name == kept_diffs._file_name()
    stamps = kept_diffs.folder_stamps
    monkeypatch.setattr(kept_diffs, "folder_stamps",
                        lambda folder, wanted: [*stamps(folder, wanted), "diff.py:1:2"])
    assert kept_diffs._file_name() != name


async def _start(path: Path) -> tuple[str, KeptDiffs]:
    app = make_app(path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)  # kept after the first frame
        shown = app.export_screenshot()
        kept = app.kept_diffs
    return shown, kept


async def test_a_second_start_answers_its_first_frame_and_paints_the_same(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a new process: building the demo merged its items in this one (state's own cache
    # of merges, by the ids of their texts, would answer before the merge is asked).
    monkeypatch.setattr(state, "_MERGES", {})
    cold, first = await _start(demo_path)
    assert first.found == 0 and first.asked_diffs and first.asked_merges
    assert first.path.is_file() and first.path.stat().st_mode & 0o077 == 0
    monkeypatch.setattr(state, "_MERGES", {})
    warm, second = await _start(demo_path)
    # The demo's first item: one merge (its compilation) and one diff (its two positions).
    assert second.found == len(first.asked_diffs) + len(first.asked_merges) >= 2
    assert warm == cold
    assert not merge.GIVEN and merge.NOTED is None and kept_diffs._current is None


def _first_frame(folder: Path, pairs: list[tuple[str, str]]) -> KeptDiffs:
    kept = KeptDiffs(folder)
    kept.start()
    for a, b in pairs:
        kept_diffs.diff_words(a, b)
    kept.settle()
    kept.save()
    return kept


def test_starts_in_turn_each_find_their_own_up_to_kept(tmp_path: Path) -> None:
    _first_frame(tmp_path, [("a b", "a c")])
    _first_frame(tmp_path, [("x y", "x z")])
    again = _first_frame(tmp_path, [("a b", "a c")])
    assert again.found == 1  # the other start's answers did not push these out
    assert set(KeptDiffs(tmp_path).diffs) == {("a b", "a c"), ("x y", "x z")}
    for n in range(kept_diffs.KEPT + 5):
        _first_frame(tmp_path, [(f"t {n}", f"u {n}")])
    kept = KeptDiffs(tmp_path).diffs
    assert len(kept) == kept_diffs.KEPT
    assert next(iter(kept)) == (f"t {kept_diffs.KEPT + 4}", f"u {kept_diffs.KEPT + 4}")


FIRST_FRAME_PROBE = """
import asyncio, sys
from pathlib import Path
from tui.app import SummitApp

seen = []
first_frame_out = SummitApp._first_frame_out

def probe(self):
    seen.append("rapidfuzz" in sys.modules)
    first_frame_out(self)

SummitApp._first_frame_out = probe

async def main():
    app = SummitApp(Path(sys.argv[1]), as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.6)  # kept, 0.25 s after the frame

asyncio.run(main())
print(seen)
"""


def test_a_start_answered_from_the_file_does_not_load_the_engine_before_its_frame(
        demo_path: Path) -> None:
    """In a fresh process each time (this one has long loaded the engine): the first start
    diffs with the engine and keeps its answers; the second paints its first frame without
    importing rapidfuzz."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}  # XDG_CACHE_HOME: this test's (conftest)
    runs = [subprocess.run([sys.executable, "-c", FIRST_FRAME_PROBE, str(demo_path)],
                           capture_output=True, text=True, check=True, cwd=root, env=env
                           ).stdout.split()[-1] for _ in range(2)]
    assert runs == ["[True]", "[False]"]
