"""The whole product on a scale workspace: 100 summits, 100k revisions.

Run:  python bench/bench_scale.py [--summits 100] [--revisions 100000] [--keep DIR]

Builds the workspace with bench/scale.py, then prints the median time of what a desk officer
does on it: open the workspace and list one summit, table a revision, diff the two positions
of an item, export a summit (Markdown and HTML), check the integrity of the whole workspace,
and the same jobs as whole `summit` processes (the way scripts use them), beside the cost of
starting a bare Python process measured in the same run. TUI start-up at this scale is in
bench/bench_tui.py. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import build  # noqa: E402

from agenda import export, integrity  # noqa: E402
from agenda.diff import diff_stats, diff_words  # noqa: E402
from agenda.workspace import Workspace  # noqa: E402


def median_ms(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def process_ms(argv: list[str], repeat: int, data_home: Path) -> float:
    # The CLI's daily backup goes to the user data folder: keep it in the bench's folder.
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    subprocess.run(argv, check=True, capture_output=True, env=env)  # today's backup, once
    return median_ms(lambda: subprocess.run(argv, check=True, capture_output=True, env=env),
                     repeat)


def busiest_item(ws: Workspace, slug: str) -> str:
    state = ws.state(slug)
    return max(state.items, key=lambda i: len(state.tabled(i))).number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summits", type=int, default=100)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the workspace here")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="summit-scale-"))
    path = folder / "ws.json"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.summits, args.revisions)
        print(f"built {args.revisions:,} revisions over {args.summits} summits in "
              f"{time.perf_counter() - start:.1f} s")
    size = sum(p.stat().st_size for p in [path, *path.with_suffix(".summits").iterdir()])
    print(f"workspace: {size / 1e6:.0f} MB")

    ws = Workspace(path)
    slug = ws.summits()[len(ws.summits()) // 2].slug
    number = busiest_item(ws, slug)
    rows: list[tuple[str, float, str]] = []

    def fresh_open() -> None:
        Workspace(path).state(slug)

    rows.append(("open the workspace, read one summit", median_ms(fresh_open, 7), "< 300 ms"))
    counter = iter(range(1_000_000))
    rows.append(("table a revision", median_ms(
        lambda: ws.table(slug, number, delegation="RU",
                         text=f"Bench revision {next(counter)}. " * 40), 9), "< 50 ms"))
    state = ws.state(slug)
    positions = list(state.positions(state.item(number)).values())
    a, b = positions[0].text, positions[-1].text
    rows.append(("word diff of the two positions", median_ms(
        lambda: diff_stats(diff_words(a, b)), 9), ""))
    for template in ("agenda", "negotiating-text"):
        for fmt in ("md", "html"):
            rows.append((f"export {template} ({fmt})", median_ms(
                lambda t=template, f=fmt: export.render(ws, slug, t, fmt=f), 5), "< 200 ms"))
    rows.append(("check the whole workspace", median_ms(lambda: integrity.check(ws), 3), ""))

    python = [sys.executable, "-c", "pass"]
    summit = [sys.executable, "-m", "agenda", "--db", str(path), "--summit", slug]
    data_home = folder / "data-home"
    start = time.perf_counter()
    subprocess.run([*summit, "summits"], check=True, capture_output=True,
                   env={**os.environ, "XDG_DATA_HOME": str(data_home)})
    rows.append(("process: first command of the day (daily backup)",
                 (time.perf_counter() - start) * 1000, ""))
    rows.append(("process: bare python (reference)", process_ms(python, 5, data_home), ""))
    rows.append(("process: summit items", process_ms([*summit, "items"], 5, data_home), ""))
    rows.append(("process: summit diff", process_ms([*summit, "diff", number], 5, data_home),
                 ""))
    rows.append(("process: summit export", process_ms([*summit, "export"], 5, data_home), ""))

    print(f"\nsummit {slug}, item {number} ({len(state.tabled(state.item(number)))} tabled texts)")
    print("| job | median | target |\n|---|---:|---|")
    for label, ms, target in rows:
        print(f"| {label} | {ms:,.1f} ms | {target} |")
    if args.keep is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
