"""Benchmark the terminal app: cold start to the first painted workspace, and item → Positions.

Cold start is measured in fresh subprocesses (imports included), as a ratio to a minimal
Textual app measured in the same run, so the figure means the same on any machine. The
children may cache bytecode (in a temporary folder, as an installed app would have it; one
unmeasured run of each warms that cache) even where PYTHONDONTWRITEBYTECODE is set.
The same cold start on a generated workspace of 100 summits and 100k revisions (bench/scale.py)
opens one of its summits; it takes about 10 s more to generate (--no-scale skips it).
Run: python bench/bench_tui.py [--repeats N] [--no-scale]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL = """
import time
start = time.perf_counter()
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("ready")

    def on_mount(self):
        self.call_after_refresh(self.exit)

async def main():
    app = Minimal()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
import asyncio
asyncio.run(main())
print(time.perf_counter() - start)
"""

SUMMIT = """
import time
start = time.perf_counter()
import asyncio
from pathlib import Path
from tui.app import SummitApp

async def main(path, summit):
    app = SummitApp(Path(path), summit=summit, as_="IN", config=Path(path).parent / "config")
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#positions-summary").content), "not painted"

asyncio.run(main({path!r}, {summit!r}))
print(time.perf_counter() - start)
"""

SCALE_SUMMITS = 100
SCALE_REVISIONS = 100_000


def child_env(pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_child(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def cold_starts(code: str, env: dict[str, str], repeats: int) -> list[float]:
    run_child(code, env)  # warms the bytecode cache; not measured
    return [run_child(code, env) for _ in range(repeats)]


async def item_to_positions(path: Path, rounds: int) -> list[float]:
    """Seconds from highlighting an item to its Positions tab painted with the new texts."""
    from tui.app import SummitApp
    from tui.screens.workspace import WorkspaceScreen
    from tui.widgets.agenda_tree import AgendaTree

    app = SummitApp(path, as_="IN", config=path.parent / "config")
    timings: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        tree = screen.query_one(AgendaTree)
        leaves = [leaf for branch in tree.root.children for leaf in branch.children]
        for n in range(rounds):
            leaf = leaves[(n + 1) % len(leaves)]
            start = time.perf_counter()
            tree.move_cursor(leaf)
            while screen.item_uuid != leaf.data:
                await asyncio.sleep(0.0005)
            await app.workers.wait_for_complete()  # the word diff, then the columns mounted
            await pilot.pause()  # painted
            timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-scale", action="store_true",
                        help="skip the 100k-revision workspace")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    try:
        run(folder, args.repeats, scale=not args.no_scale)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the scale workspace takes ~180 MB


def run(folder: Path, repeats: int, *, scale: bool) -> None:
    from agenda.demo import build_demo
    from agenda.workspace import Workspace

    path = folder / "demo.json"
    ws = Workspace(path, create=True)
    build_demo(ws)
    ws.close()

    env = child_env(folder / "pycache")
    minimal = cold_starts(MINIMAL, env, repeats)
    summit = cold_starts(SUMMIT.format(path=str(path), summit=None), env, repeats)
    m, s = statistics.median(minimal), statistics.median(summit)
    print(f"cold start, minimal Textual app : {m * 1000:7.0f} ms (median of {repeats})")
    print(f"cold start, demo workspace      : {s * 1000:7.0f} ms (median of {repeats})")
    print(f"ratio (target ≤ 1.5×)           : {s / m:7.2f}×")

    timings = asyncio.run(item_to_positions(path, rounds=20))
    print(f"item → Positions painted        : {statistics.median(timings) * 1000:7.1f} ms "
          f"median, {max(timings) * 1000:.1f} ms max (target < 100 ms)")

    if scale:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bench.scale import build

        big = folder / "scale" / "workspace.json"
        started = time.perf_counter()
        build(big, SCALE_SUMMITS, SCALE_REVISIONS, verify=False)
        built = time.perf_counter() - started
        ws = Workspace(big)
        slug = ws.summits()[0].slug
        ws.close()
        scale = cold_starts(SUMMIT.format(path=str(big), summit=slug), env, repeats)
        print(f"cold start, {SCALE_REVISIONS // 1000}k revisions / {SCALE_SUMMITS} summits "
              f": {statistics.median(scale) * 1000:7.0f} ms (median of {repeats}; "
              f"target < 1500 ms; workspace generated in {built:.1f} s)")


if __name__ == "__main__":
    main()
