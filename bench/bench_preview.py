"""Benchmark the app's export preview on the demo: the first visit and a repeat visit.

Each round is a fresh process (so the first visit pays what a user's first `x` pays: imports,
the template's compilation, the screen's build, the render) driven by Textual's Pilot at
120×36, acting as IN. It waits `--idle` seconds after the workspace is painted (a user
reads the agenda before exporting; 0 gives the worst case), presses x and times until the
preview holds the document and is painted, then goes back and does it again (the repeat
visit). Beside it, in the same process and the same run, a reference: x pressed on a bare
screen that only pushes an empty screen, the floor of any screen change.
Run: python bench/bench_preview.py [--rounds N] [--idle S]. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path

async def main(path, idle):
    from textual.screen import Screen
    from textual.widgets import Static, TextArea
    from tui.app import SummitApp

    class Bare(Screen):
        BINDINGS = [("escape", "app.pop_screen", "Back")]
        def compose(self):
            yield Static("bare")

    app = SummitApp(Path(path), as_="IN", config=Path(path).parent / "config")
    out = {}
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await asyncio.sleep(idle)
        await pilot.pause()
        for visit in ("first", "repeat"):
            start = time.perf_counter()
            await pilot.press("x")
            while not (type(app.screen).__name__ == "ExportScreen"
                       and app.screen.query_one("#preview", TextArea).text):
                await asyncio.sleep(0.0005)
            await pilot.pause()
            out[visit] = time.perf_counter() - start
            await pilot.press("escape")
            await pilot.pause()
        start = time.perf_counter()
        app.push_screen(Bare())
        await pilot.pause()
        out["bare"] = time.perf_counter() - start
        await pilot.press("escape")
        await pilot.pause()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def child_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The app keeps who acts and what was seen in the user's folders: the bench's own.
    for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                      ("XDG_CACHE_HOME", "cache")):
        env[name] = str(folder / sub)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=1.0)
    args = parser.parse_args(argv)
    from agenda.demo import build_demo
    from agenda.workspace import Workspace

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "demo.json"
        ws = Workspace(path, create=True)
        build_demo(ws)
        ws.close()
        env = child_env(folder)
        runs = []
        for n in range(args.rounds + 1):  # the first run only warms the bytecode cache
            done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(args.idle)],
                                  env=env, capture_output=True, text=True, check=True)
            if n:
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"Load average {os.getloadavg()[0]:.1f}; demo, acting as IN, {args.idle:g} s idle "
          f"before x; median of {args.rounds} fresh processes")
    bare = statistics.median(run["bare"] for run in runs)
    for key, label in (("first", "export preview, first visit"),
                       ("repeat", "export preview, repeat visit"),
                       ("bare", "reference: an empty screen pushed")):
        values = [run[key] * 1000 for run in runs]
        median = statistics.median(values)
        print(f"  {label:<36} {median:7.1f} ms  (max {max(values):.1f}; "
              f"{median / (bare * 1000):.1f}× the reference; target < 300 ms)")


if __name__ == "__main__":
    main()
