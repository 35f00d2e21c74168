"""Benchmark the terminal app: cold start to the first painted workspace, and item → Positions.

Cold start is measured in fresh subprocesses (imports included), as a ratio to a minimal
Textual app measured in the same run, so the figure means the same on any machine. The
children may cache bytecode (in a temporary folder, as an installed app would have it; one
unmeasured run of each warms that cache) even where PYTHONDONTWRITEBYTECODE is set; the
app's parsed CSS is kept the same way (tui/css_cache.py, in the bench's own cache folder),
so the unmeasured run warms it too, as a user's earlier start would have.
The same cold start on a generated workspace of 100 summits and 100k revisions (bench/scale.py)
opens one of its summits; it takes about 10 s more to generate (--no-scale skips it), and as
much again to convert: scale.py writes the files as 0.1 did, and the workspace is upgraded (a
backup, then its first write) before it is measured, as a user's is after its first write.
Until then every start would convert the 0.1 files in memory again (~40% of the start).
A real pseudo-terminal (--pty, the default part of the run): the app is forked onto a pty
of 120×36 as a user starts it, and the parent times, from the bytes the app writes, the fork
to its first complete frame (the item's heading and Positions written) and a key press to the
frame showing the next item; beside a minimal Textual app on the same pty, forked to its
first frame and switching between two screens, interleaved, medians, ratios. The export
preview is timed in-process (x pressed to the brief rendered in the preview).
Run: python bench/bench_tui.py [--repeats N] [--no-scale]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import results  # noqa: E402  (stdlib only: nothing of the package loads here)

if TYPE_CHECKING:
    from agenda.workspace import Workspace

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
        assert app.screen.query_one("#positions-view").summary.plain, "not painted"

asyncio.run(main({path!r}, {summit!r}))
print(time.perf_counter() - start)
"""

PTY_MINIMAL = """
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

class Two(Screen):
    BINDINGS = [("s", "app.pop_screen", "back")]
    def compose(self):
        yield Static("this is screen two")

class Minimal(App):
    BINDINGS = [("s", "push_screen('two')", "switch")]
    SCREENS = {"two": Two}
    def compose(self):
        yield Static("this is screen one")

Minimal().run()
"""

PTY_SUMMIT = """
from pathlib import Path
from tui.app import SummitApp
path = Path({path!r})
SummitApp(path, summit={summit!r}, as_="IN", config=path.parent / "config").run()
"""

# What marks a complete frame in the bytes written: text that is only on the screen once the
# screen is fully built (the item's heading says who proposed it; the minimal app's text).
FIRST_FRAME = {"minimal": b"screen one", "summit": b"proposed by"}
# Key, then what only the next frame shows (the item heading's full title; the tree shortens
# titles at 120 columns).
SWITCHES = {
    "minimal": [(b"s", b"screen two"), (b"s", b"screen one")],
    "summit": [(b"\x1b[B", b"and 2+2 dialogue"), (b"\x1b[A", b"security architecture")],
}


class PtyApp:
    """One app forked onto a pseudo-terminal; times are read from what it writes."""

    def __init__(self, code: str, env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a terminal of 120×36, then the app
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
            os.execve(sys.executable, [sys.executable, "-c", code],
                      {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"})
        self.seen = b""

    def until(self, marker: bytes, timeout: float = 60.0) -> float:
        """Seconds until `marker` is written (counted from now's caller, see users)."""
        deadline = time.perf_counter() + timeout
        while marker not in self.seen:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{marker!r} never written")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    raise TimeoutError("the app ended") from None
                self.seen += chunk
        return time.perf_counter()

    def cpu(self) -> float:
        """The app's CPU seconds so far (user + system), read from /proc; NaN elsewhere.

        Under load, wall time counts the other processes' turns; CPU time does not."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def drain(self, quiet: float = 0.3) -> None:
        """Read until the app has written nothing for `quiet` seconds."""
        while select.select([self.fd], [], [], quiet)[0]:
            try:
                os.read(self.fd, 65536)
            except OSError:
                return

    def press(self, key: bytes, marker: bytes) -> float:
        self.seen = b""
        start = time.perf_counter()
        os.write(self.fd, key)
        return self.until(marker) - start

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.drain(0.05)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def pty_round(kind: str, code: str, env: dict[str, str],
              presses: int) -> tuple[float, float, list[float]]:
    app = PtyApp(code, env)
    try:
        first = app.until(FIRST_FRAME[kind]) - app.started
        cpu = app.cpu()
        app.drain(0.5)
        switches = []
        for n in range(presses):
            key, marker = SWITCHES[kind][n % 2]
            switches.append(app.press(key, marker))
            app.drain(0.15)  # the frame's tail, and anything deferred after it
        return first, cpu, switches
    finally:
        app.close()


def pty_compare(codes: dict[str, str], env: dict[str, str], repeats: int,
                presses: int = 10) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """Interleaved runs of each app on a pty: first frames (wall, CPU) and key-to-frame times."""
    results: dict[str, tuple[list[float], list[float], list[float]]] = {
        k: ([], [], []) for k in codes}
    for kind, code in codes.items():  # unmeasured: warms the bytecode cache
        pty_round(kind, code, env, min(presses, 2))
    for _ in range(repeats):
        for kind, code in codes.items():
            first, cpu, switches = pty_round(kind, code, env, presses)
            results[kind][0].append(first)
            results[kind][1].extend(switches)
            results[kind][2].append(cpu)
    return results


async def export_preview(path: Path, rounds: int) -> list[float]:
    """Seconds from x pressed to the export screen's preview holding the rendered document."""
    from textual.widgets import TextArea

    from tui.app import SummitApp
    from tui.screens.export import ExportScreen

    app = SummitApp(path, as_="IN", config=path.parent / "config")
    timings: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(rounds):
            start = time.perf_counter()
            await pilot.press("x")
            while not (isinstance(app.screen, ExportScreen)
                       and app.screen.query_one("#preview", TextArea).text):
                await asyncio.sleep(0.0005)
            await pilot.pause()  # the preview laid out and painted
            timings.append(time.perf_counter() - start)
            await pilot.press("escape")
            await pilot.pause()
    return timings


SCALE_SUMMITS = 100
SCALE_REVISIONS = 100_000


def child_env(pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    # The app remembers who acts and what was seen in the user's config folder: the bench's
    # apps keep theirs in its own temporary folder, never the real one.
    for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                      ("XDG_CACHE_HOME", "cache")):
        env[name] = str(pycache.parent / sub)
    return env


def run_child(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def interleaved_cold_starts(codes: list[str], env: dict[str, str],
                            repeats: int) -> list[list[float]]:
    """Cold starts of each program in turn, so that a change in the machine's load falls on
    all of them alike."""
    for code in codes:
        run_child(code, env)  # warms the bytecode cache; not measured
    found: list[list[float]] = [[] for _ in codes]
    for _ in range(repeats):
        for times, code in zip(found, codes, strict=True):
            times.append(run_child(code, env))
    return found


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
    parser.add_argument("--pty-only", action="store_true",
                        help="only the pseudo-terminal figures (first frame, key to frame)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also save every figure to PATH (for bench/report.py)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    # The apps this process runs itself (the export preview, item → Positions) keep their
    # parsed CSS and first-frame diffs in the user's cache folder: a temporary one here, as
    # for the children (child_env), never the user's own.
    for name, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                      ("XDG_CACHE_HOME", "cache")):
        os.environ[name] = str(folder / sub)
    try:
        run(folder, args.repeats, scale=not args.no_scale, pty_only=args.pty_only)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the scale workspace takes ~180 MB
    results.write(args.json, "bench_tui")


SECTION = "The terminal app, from a real pseudo-terminal (wall time)"


def run(folder: Path, repeats: int, *, scale: bool, pty_only: bool = False) -> None:
    from agenda.demo import build_demo
    from agenda.workspace import Workspace

    path = folder / "demo.json"
    ws = Workspace(path, create=True)
    build_demo(ws)
    ws.close()

    env = child_env(folder / "pycache")
    if not pty_only:
        in_process(path, env, repeats)
    pty_figures(path, env, repeats)
    if scale:
        at_scale(folder, env, repeats)


def in_process(path: Path, env: dict[str, str], repeats: int) -> None:
    minimal, summit = interleaved_cold_starts(
        [MINIMAL, SUMMIT.format(path=str(path), summit=None)], env, repeats)
    m, s = statistics.median(minimal), statistics.median(summit)
    print(f"cold start, minimal Textual app : {m * 1000:7.0f} ms (median of {repeats})")
    print(f"cold start, demo workspace      : {s * 1000:7.0f} ms (median of {repeats})")
    print(f"ratio (target ≤ 1.5×)           : {s / m:7.2f}×")

    timings = asyncio.run(item_to_positions(path, rounds=20))
    print(f"item → Positions painted        : {statistics.median(timings) * 1000:7.1f} ms "
          f"median, {max(timings) * 1000:.1f} ms max (target < 100 ms)")

    preview = asyncio.run(export_preview(path, rounds=10))
    print(f"export preview (x → painted)    : {statistics.median(preview) * 1000:7.1f} ms "
          f"median, {max(preview) * 1000:.1f} ms max (target < 300 ms)")



def load_average() -> str:
    """The machine's load over the last minute (the figures beside it are that noisy)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def paired(ours: list[float], reference: list[float]) -> float:
    """The median of each round's ratio (the two apps ran back to back in each round)."""
    return statistics.median(o / r for o, r in zip(ours, reference, strict=True))


def pty_figures(path: Path, env: dict[str, str], repeats: int) -> None:
    before = load_average()
    found = pty_compare({"minimal": PTY_MINIMAL,
                         "summit": PTY_SUMMIT.format(path=str(path), summit=None)},
                        env, repeats)
    print(f"load average (1 min) before / after the pty runs: {before} / {load_average()}")
    (m_first, m_keys, m_cpu), (s_first, s_keys, s_cpu) = found["minimal"], found["summit"]
    mf, sf = statistics.median(m_first), statistics.median(s_first)
    mk, sk = statistics.median(m_keys), statistics.median(s_keys)
    print(f"pty first frame, minimal app    : {mf * 1000:7.0f} ms (median of {repeats})")
    print(f"pty first frame, demo           : {sf * 1000:7.0f} ms  ratio {sf / mf:.2f}× "
          "(target ≤ 1.3×)")
    print(f"  the same, paired by round     : {paired(s_first, m_first):.2f}× (median of each "
          "round's ratio: a change of load between rounds falls on both apps)")
    mc, sc = statistics.median(m_cpu), statistics.median(s_cpu)
    print(f"pty first frame CPU, demo       : {sc * 1000:7.0f} ms against the minimal app's "
          f"{mc * 1000:.0f} ms: {sc / mc:.2f}×")
    print(f"pty key → frame, minimal screen switch : {mk * 1000:6.1f} ms "
          f"(median of {len(m_keys)})")
    print(f"pty key → frame, demo next item        : {sk * 1000:6.1f} ms  ratio {sk / mk:.2f}× "
          "(target ≤ 1.3×)")
    results.record(SECTION, "first frame, demo", sf * 1000,
                     reference="a minimal Textual app's first frame", ref=mf * 1000,
                     target="≤ 1.3×", met=sf <= 1.3 * mf,
                     note=f"CPU {sc * 1000:.0f} against {mc * 1000:.0f} ms")
    results.record(SECTION, "a key to the next item's frame, demo", sk * 1000,
                     reference="a minimal Textual app's screen switch", ref=mk * 1000,
                     target="≤ 1.3×", met=sk <= 1.3 * mk)


def upgrade(ws: Workspace) -> None:
    """Convert a 0.1 workspace as its first write does (the backup first, next to it: never
    in the user's folders)."""
    from agenda.backup import automatic_backup

    if ws.pending_migration() is None:
        return
    automatic_backup(ws, ws.path.parent / "backups")
    with ws.transaction():
        pass  # the first write transaction converts every summit file into records


def at_scale(folder: Path, env: dict[str, str], repeats: int) -> None:
    from agenda.workspace import Workspace
    from bench.scale import build

    big = folder / "scale" / "workspace.json"
    started = time.perf_counter()
    build(big, SCALE_SUMMITS, SCALE_REVISIONS, verify=False)
    built = time.perf_counter() - started
    ws = Workspace(big)
    upgrade(ws)
    slug = ws.summits()[0].slug
    ws.close()
    minimal, scale = interleaved_cold_starts(
        [MINIMAL, SUMMIT.format(path=str(big), summit=slug)], env, repeats)
    print(f"cold start, {SCALE_REVISIONS // 1000}k revisions / {SCALE_SUMMITS} summits "
          f": {statistics.median(scale) * 1000:7.0f} ms (median of {repeats}; "
          f"target < 1500 ms; workspace generated in {built:.1f} s)")
    before = load_average()
    found = pty_compare({"minimal": PTY_MINIMAL,
                         "summit": PTY_SUMMIT.format(path=str(big), summit=slug)},
                        env, repeats, presses=0)
    print(f"load average (1 min) before / after the 100k pty runs: {before} / "
          f"{load_average()}")
    mf, sf = statistics.median(found["minimal"][0]), statistics.median(found["summit"][0])
    print(f"pty first frame, 100k revisions : {sf * 1000:7.0f} ms against the minimal "
          f"app's {mf * 1000:.0f} ms: {sf / mf:.2f}× (target ≤ 1.5×)")
    print(f"  the same, paired by round     : "
          f"{paired(found['summit'][0], found['minimal'][0]):.2f}×")
    mc, sc = statistics.median(found["minimal"][2]), statistics.median(found["summit"][2])
    print(f"pty first frame CPU, 100k       : {sc * 1000:7.0f} ms against the minimal app's "
          f"{mc * 1000:.0f} ms: {sc / mc:.2f}×")
    results.record(SECTION, f"first frame, {SCALE_REVISIONS // 1000}k revisions over "
                     f"{SCALE_SUMMITS} summits", sf * 1000,
                     reference="a minimal Textual app's first frame", ref=mf * 1000,
                     target="≤ 1.5×", met=sf <= 1.5 * mf,
                     note=f"CPU {sc * 1000:.0f} against {mc * 1000:.0f} ms")
    results.record(SECTION, f"cold start in-process, {SCALE_REVISIONS // 1000}k revisions",
                     statistics.median(scale) * 1000,
                     reference="a minimal Textual app's cold start",
                     ref=statistics.median(minimal) * 1000, target="< 1500 ms",
                     met=statistics.median(scale) < 1.5)


if __name__ == "__main__":
    main()
