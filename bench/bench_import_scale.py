"""An import of 100k items: time, peak memory and how long the lock is held, beside a reference.

Run: python bench/bench_import_scale.py [--items N ...] [--repeat R] (default: 10k and 100k
items, 3 runs each); with several sizes, the peak's growth an item between each two. Each
measurement runs in a fresh process (peak memory is that process's VmHWM). Ours imports a
generated Markdown agenda of N items in 10 sections into a new workspace (`summit import`'s
work: read the file as it does, a window of lines at a time; parse, match, build and commit
every record). The reference does the same work the plain way in the same run: a
markdown-it parse of the same text and a SQLite insert (WAL, synchronous=FULL, one
transaction) of the same rows: one item, its tabled text and its event per agenda entry.
Runs are interleaved; medians and the ratio are printed, wall time and CPU time. It asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def agenda(items: int) -> str:
    lines = ["# A summit of many items", ""]
    per = max(1, items // 10)
    for section in range(10):
        lines += [f"## Section {section}", ""]
        lines += [f"- Item {section}-{n}: the parties agree on point {n} of section {section}, "
                  "[with a bracketed phrase] to settle." for n in range(per)]
        lines.append("")
    return "\n".join(lines)


OURS = textwrap.dedent("""\
    import json, sys, time
    from pathlib import Path
    from agenda.importer import SourceLines, import_markdown
    from agenda.model import Delegation
    from agenda.workspace import Workspace
    source, folder = Path(sys.argv[1]), Path(sys.argv[2])
    text = SourceLines(source)  # as `summit import` reads it: a window of lines at a time
    ws = Workspace(folder / "ws.json", create=True)
    held = []
    take = ws.lock.take
    def timed_take():
        take()
        held.append(time.perf_counter())
    ws.lock.take = timed_take
    start, cpu = time.perf_counter(), time.process_time()
    report = import_markdown(ws, text, delegation="IN", source_name=source.name,
                             delegations=[Delegation("IN", "India"), Delegation("RU", "Russia")])
    end, cpu = time.perf_counter(), time.process_time() - cpu
    print(json.dumps({"seconds": end - start, "cpu": cpu, "items": len(report.items_added),
                      "locked": end - held[-1] if held else end - start}))
""")
REFERENCE = textwrap.dedent("""\
    import json, sqlite3, sys, time, uuid
    from pathlib import Path
    from markdown_it import MarkdownIt
    source, folder = Path(sys.argv[1]), Path(sys.argv[2])
    text = source.read_text()
    start, cpu = time.perf_counter(), time.process_time()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows, section = [], ""
    for n, token in enumerate(tokens):
        if token.type == "inline" and tokens[n - 1].type == "heading_open":
            section = token.content
        elif token.type == "inline" and tokens[n - 1].type == "paragraph_open":
            title, _, rest = token.content.partition(":")
            rows.append((str(uuid.uuid4()), section, title, rest.strip()))
    db = sqlite3.connect(folder / "ref.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE items (uuid TEXT PRIMARY KEY, section TEXT, title TEXT)")
    db.execute("CREATE TABLE revisions (item TEXT, code TEXT, text TEXT)")
    db.execute("CREATE TABLE events (item TEXT, detail TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?, ?)", [r[:3] for r in rows])
        db.executemany("INSERT INTO revisions VALUES (?, 'ADD', ?)", [(r[0], r[3]) for r in rows])
        db.executemany("INSERT INTO events VALUES (?, ?)",
                       [(r[0], "IN proposed item " + r[2]) for r in rows])
    end, cpu = time.perf_counter(), time.process_time() - cpu
    print(json.dumps({"seconds": end - start, "cpu": cpu, "items": len(rows),
                      "locked": end - start}))
""")


def peak_rss(pid_status: str) -> float:
    for line in pid_status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(script: str, source: Path) -> dict[str, float]:
    """One fresh process; its figures and its peak memory (VmHWM, read before it exits)."""
    with tempfile.TemporaryDirectory() as folder:
        wrapper = (script + "\nprint(open('/proc/self/status').read().split('VmHWM:')[1]"
                   ".split()[0])\n")
        env = {**os.environ, "HOME": folder, "XDG_DATA_HOME": folder,
               "XDG_CONFIG_HOME": folder, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", wrapper, str(source), folder],
                             capture_output=True, text=True, check=True, env=env).stdout
        figures, kib = out.strip().splitlines()[-2:]
        result = json.loads(figures)
        result["peak_mb"] = int(kib) / 1024
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    peaks = [(items, *compare(items, args.repeat)) for items in args.items]
    # Growth: what each further item costs in peak memory, between two sizes.
    for (fewer, ours_a, ref_a), (more, ours_b, ref_b) in zip(peaks, peaks[1:], strict=False):
        added = (more - fewer) / 1024
        print(f"peak growth from {fewer:,} to {more:,} items: ours "
              f"{(ours_b - ours_a) / added:.3f} KB an item, reference "
              f"{(ref_b - ref_a) / added:.3f} KB an item")
    print("  (reference: markdown-it parse + SQLite WAL insert of the same rows; 'cpu' is the "
          "process's CPU time, steadier than 'seconds' on a busy machine; 'locked' is the time "
          "the workspace lock is held, the reference's whole transaction)")


def compare(items: int, repeat: int) -> tuple[float, float]:
    """Print the figures of `repeat` interleaved runs; the median peaks (MB), ours and the
    reference's."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "agenda.md"
        source.write_text(agenda(items))
        size = source.stat().st_size
        ours, reference = [], []
        for _ in range(repeat):
            ours.append(measure(OURS, source))
            reference.append(measure(REFERENCE, source))
    print(f"import of {ours[0]['items']:,} items ({size / 1e6:.1f} MB of "
          f"Markdown), medians of {repeat} interleaved runs, load {os.getloadavg()[0]:.1f}")
    for name in ("seconds", "cpu", "peak_mb", "locked"):
        mine = statistics.median(r[name] for r in ours)
        theirs = statistics.median(r[name] for r in reference)
        print(f"  {name:8} ours {mine:9.2f}   reference {theirs:9.2f}   "
              f"ratio {mine / theirs:5.1f}×")
    per_item = [statistics.median(r["peak_mb"] for r in runs) * 1024 / items
                for runs in (ours, reference)]
    print(f"  peak per item: ours {per_item[0]:.1f} KB, reference {per_item[1]:.1f} KB "
          "(the interpreter's own memory included)")
    return (statistics.median(r["peak_mb"] for r in ours),
            statistics.median(r["peak_mb"] for r in reference))


if __name__ == "__main__":
    main()
