"""A full read with nothing kept, this tree beside another tree of the project and the floor.

Run:  python bench/bench_full_read.py --base DIR --keep KEEP [--runs 15] [--big]

DIR is another checkout of the project (a worktree of the commit to compare with); KEEP is a
folder where the workspaces are built once (bench_startup.py's --keep: the 100 summits of
bench/scale.py, and with --big its summit of 20,000 items), copied afresh for each run.

Whole processes, taking turns (floor, DIR, this tree, floor, ...), each run after the kept
data is removed and waiting for the keeper of the run before: `summit items` with nothing
kept, and `summit table` as RU with nothing kept but the joint listing (bench_startup.py's
two "nothing kept" cases); then that `table` right after an `items` with nothing kept whose
keeper (the same tree's) is still at work. Each tree runs as `python -c` with PYTHONPATH at
its checkout (the same interpreter, packages and start-up for both). Printed: the median wall
time and the median CPU time (user + system of the process, from wait4), each as a ratio to
the floor's, and this tree's to DIR's. Then `Workspace.state` in a fresh process of each
tree, taking turns: what reading, verifying and folding the records costs without start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_startup import FLOOR, build_big, built, wait_for_keeper  # noqa: E402

RUN = ("import sys; sys.argv = ['summit', *sys.argv[1:]]; "
       "from agenda.__main__ import script; script()")
STATE = """
import json, sys, time
from agenda.workspace import Workspace
ws = Workspace(sys.argv[1])
wall, cpu = time.perf_counter(), time.process_time()
ws.state(sys.argv[2])
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=tempfile.gettempdir(),
                             stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]} failed")
    return wall, usage.ru_utime + usage.ru_stime


def bench(label: str, db: Path, slug: str, trees: dict[str, Path], env: dict[str, str],
          runs: int) -> None:
    from agenda.workspace import Workspace

    ws = Workspace(db)
    files = [str(ws.files()[0]), str(ws.summit_path(slug))]
    ws.close()
    cache = Path(env["XDG_CACHE_HOME"])
    kept = cache / "summit-agenda" / "kept"

    def nothing_kept(tree_env: dict[str, str]) -> None:
        for place in kept.glob("*.json"):
            place.unlink()

    def the_listing_kept(tree_env: dict[str, str]) -> None:
        nothing_kept(tree_env)
        process([sys.executable, "-c", RUN, "items", "--db", str(db), "--summit", slug],
                tree_env)
        wait_for_keeper(cache)

    def a_keeper_at_work(tree_env: dict[str, str]) -> None:
        """An `items` with nothing kept just before, its keeper (the same tree's) still at
        work when the table starts: no core is free unless the keeper leaves it."""
        nothing_kept(tree_env)
        process([sys.executable, "-c", RUN, "items", "--db", str(db), "--summit", slug],
                tree_env)

    table = ["table", "1.1", "--as", "RU", "--text", "The Sides agreed to continue consultations."]
    commands = {"items, nothing kept": (["items"], nothing_kept),
                "table, nothing kept": (table, the_listing_kept),
                "table, nothing kept, right after an items whose keeper is at work":
                    (table, a_keeper_at_work)}
    print(f"\n{label}: the floor reads {sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB")
    for name, (args, before) in commands.items():
        cases: dict[str, tuple[list[str], dict[str, str], Callable[..., None] | None]] = {
            "floor": ([sys.executable, "-c", FLOOR, *files], env, None)}
        for tree, path in trees.items():
            cases[tree] = ([sys.executable, "-c", RUN, *args, "--db", str(db), "--summit", slug],
                           {**env, "PYTHONPATH": str(path)}, before)
        walls: dict[str, list[float]] = {case: [] for case in cases}
        cpus: dict[str, list[float]] = {case: [] for case in cases}
        for n in range(runs + 1):  # the first round warms the page cache and bytecode
            for case, (argv, case_env, prepare) in cases.items():
                if prepare is not None:
                    prepare(case_env)
                wall, cpu = process(argv, case_env)
                wait_for_keeper(cache)
                if n:
                    walls[case].append(wall)
                    cpus[case].append(cpu)
        wall_of = {case: statistics.median(v) for case, v in walls.items()}
        cpu_of = {case: statistics.median(v) for case, v in cpus.items()}
        print(f"  summit {name} ({runs} runs, load average "
              f"{os.getloadavg()[0]:.1f} at the end)")
        for case in cases:
            print(f"    {case:<6} wall {wall_of[case] * 1000:8.1f} ms "
                  f"{wall_of[case] / wall_of['floor']:5.2f}× the floor   CPU "
                  f"{cpu_of[case] * 1000:8.1f} ms {cpu_of[case] / cpu_of['floor']:5.2f}×")
        print(f"    this tree ÷ base: wall {wall_of['this'] / wall_of['base']:.3f}, "
              f"CPU {cpu_of['this'] / cpu_of['base']:.3f}")
    reads: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
    for n in range(runs + 1):
        for tree, path in trees.items():
            out = subprocess.run([sys.executable, "-c", STATE, str(db), slug], check=True,
                                 env={**env, "PYTHONPATH": str(path)}, capture_output=True,
                                 text=True, cwd=tempfile.gettempdir()).stdout
            if n:
                reads[tree].append(tuple(json.loads(out)))  # type: ignore[arg-type]
    wall_of = {tree: statistics.median(w for w, _ in v) for tree, v in reads.items()}
    cpu_of = {tree: statistics.median(c for _, c in v) for tree, v in reads.items()}
    print("  Workspace.state, a fresh process each")
    for tree in trees:
        print(f"    {tree:<6} wall {wall_of[tree] * 1000:8.1f} ms   "
              f"CPU {cpu_of[tree] * 1000:8.1f} ms")
    print(f"    this tree ÷ base: wall {wall_of['this'] / wall_of['base']:.3f}, "
          f"CPU {cpu_of['this'] / cpu_of['base']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="another checkout to compare")
    parser.add_argument("--keep", type=Path, required=True, help="where workspaces are built")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big", action="store_true", help="also the 20,000-item summit")
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "this": ROOT}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",
                                                            "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        # The user's folders stay untouched, by the commands and by this process's reads.
        for name, sub in (("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"),
                          ("XDG_CONFIG_HOME", "config")):
            env[name] = os.environ[name] = str(Path(tmp) / sub)
        from bench.scale import build

        scale = Path(tmp) / "scale" / "ws.json"
        built(scale, args.keep, lambda db: build(db, 100, 100_000))
        bench("100k revisions over 100 summits", scale, "summit-0001", trees, env, args.runs)
        if args.big:
            one = Path(tmp) / "big" / "ws.json"
            built(one, args.keep, build_big)
            bench("One summit of 20,000 items", one, "big", trees, env, max(3, args.runs // 3))
        shutil.rmtree(Path(tmp) / "scale", ignore_errors=True)


if __name__ == "__main__":
    main()
