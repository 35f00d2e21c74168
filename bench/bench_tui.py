"""Benchmark the terminal app: cold start to the first painted workspace, and item → Positions.

Cold start is measured in fresh subprocesses (imports included), as a ratio to a minimal
Textual app measured in the same run, so the figure means the same on any machine.
Run: python bench/bench_tui.py [--repeats N]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
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

async def main(path):
    app = SummitApp(Path(path), as_="IN", config=Path(path).parent / "config")
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        await pilot.pause()

asyncio.run(main({path!r}))
print(time.perf_counter() - start)
"""


def run_child(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


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
    args = parser.parse_args()

    from agenda.demo import build_demo
    from agenda.workspace import Workspace

    folder = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    path = folder / "demo.json"
    ws = Workspace(path, create=True)
    build_demo(ws)
    ws.close()

    minimal = [run_child(MINIMAL) for _ in range(args.repeats)]
    summit = [run_child(SUMMIT.format(path=str(path))) for _ in range(args.repeats)]
    m, s = statistics.median(minimal), statistics.median(summit)
    print(f"cold start, minimal Textual app : {m * 1000:7.0f} ms (median of {args.repeats})")
    print(f"cold start, demo workspace      : {s * 1000:7.0f} ms (median of {args.repeats})")
    print(f"ratio (target ≤ 1.5×)           : {s / m:7.2f}×")

    timings = asyncio.run(item_to_positions(path, rounds=20))
    print(f"item → Positions painted        : {statistics.median(timings) * 1000:7.1f} ms "
          f"median, {max(timings) * 1000:.1f} ms max (target < 100 ms)")


if __name__ == "__main__":
    main()
