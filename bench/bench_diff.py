"""Word diff against git's word diff, whole process to whole process, and in-process beside it.

Run: python bench/bench_diff.py  (from the repository root; about a minute).

For each case the two whole processes run interleaved (ours, git, ours, git...) so that machine
load falls on both alike; medians and their ratio are printed. Ours is a tiny script that
imports the engine, reads the two files and prints the {-old-}{+new+} diff, which is what git
does. Our in-process figure (diff_words alone, the median of its runs) is printed beside git's
whole process with the targets: ≤ 2× git for the 50 KB and 200 KB cases, ≤ 1 ms for 1 KB;
it takes its turn in the same interleaved runs (ours, git, in-process, ours, git...), and so
does the engine as it was before DIFF4 (tests/diff_engine_reference.py, a frozen copy), for an
A/B of the engine alone. (DIFF5's own A/B, against the engine as it was just before it, was
taken with a frozen copy of that engine; its figures are in README and CHANGELOG.)

Case (e) is the redline's work: 500 diffs of short texts, ours in-process beside the engine as it
was before DIFF4 (a frozen copy in tests/) and git's whole process diffing the same pairs as
two folders of files. It has no target of its own: the redline's HTML export has
(bench/bench_export.py).

A three-way merge of two 50 KB texts with 5 % edits each is timed too, in-process, beside
`git merge-file` merging the same three files as a whole process, interleaved.

`--json PATH` also saves every figure for bench/report.py.

Each run's CPU time is taken too (our in-process diff's own, git's child process's from
getrusage), and printed beside the wall figures: on a loaded machine the wall times of both
grow with the waiting, the CPU times much less, so their ratio is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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

from agenda.diff import Op, diff_words, tokenize  # noqa: E402
from agenda.merge import merge_texts  # noqa: E402
from bench import results  # noqa: E402

VOCAB = (
    "the Sides agreed to strengthen cooperation in trade energy defence connectivity health "
    "space nuclear maritime corridor Chennai Vladivostok Indo-Pacific Asia-Pacific summit "
    "annual bilateral strategic partnership reaffirmed commitment welcomed progress review "
    "mechanism intergovernmental commission investment target billion by 2025 and of for "
    "on with a an as well noted importance rules-based order multilateral forum BRICS SCO "
    "G20 United Nations Security Council reform counter-terrorism climate connectivity "
    "supply chains fertilisers pharmaceuticals vaccines culture education tourism visa "
    "regime Russian Far East Arctic shipping route oil gas LNG coal hydrogen"
).split()

OURS = """
import sys
from agenda.diff import diff_words
from agenda.diff_render import render_word
a, b = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
sys.stdout.write(render_word(diff_words(a, b)))
"""
PROCESS_RUNS = 20  # two rounds of the balanced orders of its five runs
TARGETS = {"a": ("≤ 1 ms in-process", None), "b": ("≤ 2× git", 2.0), "c": ("≤ 2× git", 2.0),
           "d": ("≤ 2× git", 2.0)}


def sentence(rng: random.Random, vocab: list[str]) -> str:
    words = [rng.choice(vocab) for _ in range(rng.randint(8, 24))]
    words[0] = words[0].capitalize()
    text = " ".join(words)
    if rng.random() < 0.3:
        cut = text.rfind(" ", 0, len(text) // 2)
        text = text[:cut] + "," + text[cut:]
    return text + "."


def paragraph(rng: random.Random, size: int, vocab: list[str]) -> str:
    out: list[str] = []
    while sum(map(len, out)) < size:
        out.append(sentence(rng, vocab))
    return " ".join(out)


def edit(rng: random.Random, text: str, rate: float) -> str:
    """Replace, delete or insert about `rate` of the words."""
    tokens = tokenize(text)
    out: list[str] = []
    for token in tokens:
        if token.strip() and token[0].isalnum() and rng.random() < rate:
            kind = rng.random()
            if kind < 0.6:
                out.append(rng.choice(VOCAB))
            elif kind < 0.8:
                out.append(token + " " + rng.choice(VOCAB))
            continue
        out.append(token)
    return "".join(out)


def small_pairs(count: int) -> list[tuple[str, str]]:
    """Pairs of short texts as the redline diffs them (each item's text against its previous
    revision): half a sentence of 8-24 words, half a paragraph of 300-600 characters, each
    with one word replaced, deleted or inserted, or 5 % of its words edited."""
    rng = random.Random(13)
    out: list[tuple[str, str]] = []
    for k in range(count):
        a = sentence(rng, VOCAB) if k % 2 else paragraph(rng, rng.randint(300, 600), VOCAB)
        b = edit(rng, a, 0.05)
        if a == b:
            words = a.split(" ")
            words[rng.randrange(len(words))] = rng.choice(VOCAB)
            b = " ".join(words)
        out.append((a, b))
    return out


def cases() -> dict[str, tuple[str, str]]:
    rng = random.Random(2021)
    a1 = paragraph(rng, 1000, VOCAB)
    b1 = edit(rng, a1, 0.03)
    paras = [paragraph(rng, 500, VOCAB) for _ in range(100)]
    a2 = "\n\n".join(paras)
    b2 = "\n\n".join(edit(rng, p, 0.05) for p in paras)
    other = [w.upper() if i % 2 else w for i, w in enumerate(VOCAB)]
    a4 = "\n\n".join(paragraph(rng, 2000, VOCAB) for _ in range(100))
    b4 = "\n\n".join(paragraph(rng, 2000, other) for _ in range(100))
    return {
        "a": (a1, b1),
        "b": (a2, b2),
        "c": (a2.replace("\n\n", " "), b2.replace("\n\n", " ")),
        "d": (a4, b4),
    }


NAMES = {
    "a": "(a) 1 KB, 3% edits",
    "b": "(b) 100 paragraphs, 5% edits",
    "c": "(c) the same, one paragraph",
    "d": "(d) texts sharing little",
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def clocks(run: Callable[[], object], child: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one run: the CPU of the child process it waits for, or, for
    an in-process run, this process's own."""
    cpu = children_cpu if child else time.process_time
    start, start_cpu = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - start, cpu() - start_cpu


def balanced_orders(n: int) -> list[list[int]]:
    """Orders of n runs in which each run comes just after each other run equally often (a
    Williams design: n orders, or 2n when n is odd)."""
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        if len(first) % 2:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    orders = [[(k + turn) % n for k in first] for turn in range(n)]
    return orders + [order[::-1] for order in orders] if n % 2 else orders


def interleaved(runs: dict[str, Callable[[], object]], times: int,
                children: frozenset[str] = frozenset()) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each run, taken in turns so load falls on all alike;
    the runs named in children are whole processes. The turns take the runs in balanced
    orders, each run just after each other alike: the run just after a whole process finds
    the caches cold (in-process, always just after git's process, the 1 KB diff took 1.6x
    and the 50 KB ones 1.1x the time they took elsewhere)."""
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    named = list(runs.items())
    orders = balanced_orders(len(named))
    for turn in range(times):
        for k in orders[turn % len(orders)]:
            name, run = named[k]
            seen[name].append(clocks(run, name in children))
    return {name: (statistics.median(w for w, _ in values),
                   statistics.median(c for _, c in values)) for name, values in seen.items()}


def as_rows(ops: list[Op]) -> list[tuple[str, str, int | None]]:
    return [(o.op, o.text, o.words) for o in ops]


def rebuilds(ops: list[Op], a: str, b: str) -> bool:
    return ("".join(o.text for o in ops if o.op != "insert"),
            "".join(o.text for o in ops if o.op != "delete")) == (a, b)


SMALL_PAIRS = 500
SECTION = "Word diff"


def small(tmp: Path, env: dict[str, str]) -> None:
    """(e) 500 word diffs of short texts, as the redline makes: ours in-process beside the
    engine as it was before DIFF4 (tests/diff_engine_reference.py, a frozen copy: the target
    is relative) doing the same 500 diffs in the same process, and git's whole process
    diffing the same 500 pairs as two folders of files (one process, 500 word diffs: its
    start-up shared as ours is within one export), all interleaved."""
    from tests import diff_engine_reference as before

    pairs = small_pairs(SMALL_PAIRS)
    folders = Path(tmp, "small-a"), Path(tmp, "small-b")
    for folder, side in zip(folders, (0, 1), strict=True):
        folder.mkdir()
        for k, pair in enumerate(pairs):
            Path(folder, f"{k:03}.txt").write_text(pair[side] + "\n", encoding="utf-8")
    runs: dict[str, Callable[[], object]] = {
        "in-process": lambda: [diff_words(a, b) for a, b in pairs],
        "before": lambda: [before.diff_words(a, b) for a, b in pairs],
    }
    git = shutil.which("git")
    if git:
        cmd = [git, "diff", "--no-index", "--word-diff", *map(str, folders)]
        runs["git"] = lambda: subprocess.run(cmd, capture_output=True, env=env)
    for run in runs.values():
        run()
    for a, b in pairs:
        assert rebuilds(diff_words(a, b), a, b)
    same = all([(o.op, o.text, o.words) for o in diff_words(a, b)]
               == [(o.op, o.text, o.words) for o in before.diff_words(a, b)] for a, b in pairs)
    timed = interleaved(runs, 3 * PROCESS_RUNS, frozenset(("git",)))
    wall = {name: w for name, (w, _) in timed.items()}
    cpu = {name: c for name, (_, c) in timed.items()}
    ratio = cpu["in-process"] / cpu["before"]
    mean = sum(len(a) + len(b) for a, b in pairs) / 2 / len(pairs)
    print(f"(e) {SMALL_PAIRS} short texts (mean {mean:.0f} chars), one diff each: in-process "
          f"{wall['in-process'] * 1000:.1f} ms (CPU {cpu['in-process'] * 1000:.1f}), "
          f"{cpu['in-process'] / SMALL_PAIRS * 1e6:.0f} µs a diff; the engine before DIFF4 "
          f"{wall['before'] * 1000:.1f} ms (CPU {cpu['before'] * 1000:.1f}), same ops: {same}; "
          f"ratio by CPU {ratio:.2f}")
    case = f"(e) {SMALL_PAIRS} short texts, one diff each (the redline's), CPU"
    if git:
        print(f"    git's whole process, the same {SMALL_PAIRS} pairs as two folders: "
              f"{wall['git'] * 1000:.1f} ms (CPU {cpu['git'] * 1000:.1f}); ours in-process "
              f"÷ git by CPU {cpu['in-process'] / cpu['git']:.2f}")
        results.record(SECTION, case, cpu["in-process"] * 1000,
                       reference="git's whole process, the same pairs", ref=cpu["git"] * 1000)
    results.record(SECTION, case, cpu["in-process"] * 1000,
                   reference="the engine before DIFF4, in-process", ref=cpu["before"] * 1000)


def early_look() -> None:
    """Case (d) with the engine's early look (diff._early: a block whose words share little
    is shown as replaced before it is tokenised) beside the same engine with that look
    turned off, in the same process, in turns: what the early decision saves, and that it
    changes no op."""
    from agenda import diff as engine

    a, b = cases()["d"]
    looking = engine._early

    def without() -> list[Op]:
        engine._early = lambda a, b: (False, ())
        try:
            return diff_words(a, b)
        finally:
            engine._early = looking

    same = as_rows(diff_words(a, b)) == as_rows(without())
    timed = interleaved({"early": lambda: diff_words(a, b), "without": without}, PROCESS_RUNS)
    ours, other = timed["early"][1], timed["without"][1]
    print(f"(d) with the early look {ours * 1000:.2f} ms CPU; without it {other * 1000:.2f} ms "
          f"({ours / other:.2f}×); same ops: {same}")
    results.record(SECTION, "(d) texts sharing little, in-process, CPU: the early look at "
                   "blocks that share little", ours * 1000,
                   reference="the same engine without that look", ref=other * 1000,
                   note="same ops" if same else "OPS DIFFER")


def merge(tmp: Path, git: str | None) -> None:
    """A three-way merge of 50 KB, each side with 5 % edits: ours in-process (merge_texts)
    beside `git merge-file` merging the same three texts as a whole process, interleaved. Ours
    merges word by word; git merges lines, so its files hold the texts one word a line (the
    same granularity: a merge of 100 paragraph-lines would be a tenth of the work)."""
    base, ours_side = cases()["b"]
    theirs = edit(random.Random(7), base, 0.05)
    runs: dict[str, Callable[[], object]] = {
        "in-process": lambda: merge_texts(base, {"IN": ours_side, "RU": theirs})}
    if git:
        files = [Path(tmp, f"merge-{n}.txt") for n in ("ours", "base", "theirs")]
        for path, text in zip(files, (ours_side, base, theirs), strict=True):
            path.write_text("\n".join(text.split()) + "\n", encoding="utf-8")
        cmd = [git, "merge-file", "-p", *map(str, files)]
        runs["git"] = lambda: subprocess.run(cmd, capture_output=True)
    for run in runs.values():
        run()
    timed = interleaved(runs, PROCESS_RUNS, frozenset(("git",)))
    ours_s = timed["in-process"][0]
    line = f"merge_texts, 50 KB, two sides with 5% edits each: {ours_s * 1000:.1f} ms in-process"
    if git:
        git_s = timed["git"][0]
        line += (f"; git merge-file's whole process, a word a line, {git_s * 1000:.1f} ms "
                 f"({ours_s / git_s:.2f}×)")
        results.record(SECTION, "three-way merge, 50 KB, two sides with 5 % edits each, "
                       "in-process", ours_s * 1000,
                       reference="`git merge-file` (a word a line), whole process",
                       ref=git_s * 1000)
    print(line)


def main() -> None:
    from tests import diff_engine_reference as before

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also save every figure to PATH (for bench/report.py)")
    args = parser.parse_args()

    git = shutil.which("git")
    print(f"Load average {os.getloadavg()[0]:.1f} at the start; Python {sys.version.split()[0]}, {git and subprocess.run([git, '--version'], capture_output=True, text=True).stdout.strip()}")  # noqa: E501
    print(f"{'case':<38} {'ours proc':>10} {'git proc':>10} {'ratio':>6}   "
          f"{'ours in-proc':>12} {'/ git proc':>10}  {'CPU: in-proc':>12} {'git proc':>9} "
          f"{'ratio':>6}  target")
    with tempfile.TemporaryDirectory() as tmp:
        # Bytecode is cached (in the temporary folder) even where the environment says not to
        # write it: an installed package has it, and compiling the sources costs ~30 ms.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))
        script = Path(tmp, "ours.py")
        script.write_text(OURS, encoding="utf-8")
        for key, (a, b) in cases().items():
            pa, pb = Path(tmp, f"{key}-a.txt"), Path(tmp, f"{key}-b.txt")
            pa.write_text(a, encoding="utf-8")
            pb.write_text(b, encoding="utf-8")
            ours_cmd = [sys.executable, str(script), str(pa), str(pb)]
            runs: dict[str, Callable[[], object]] = {
                "ours": lambda cmd=ours_cmd: subprocess.run(cmd, capture_output=True, check=True,
                                                             cwd=ROOT, env=env),
            }
            runs["ours"]()  # compiles the bytecode once, as installing the package does
            if git:
                git_cmd = [git, "diff", "--no-index", "--word-diff", str(pa), str(pb)]
                runs["git"] = lambda cmd=git_cmd: subprocess.run(cmd, capture_output=True)
            # In-process runs take their turn between the processes too, so that load falls
            # on the figure compared with git's as it falls on git's.
            runs["in-process"] = lambda a=a, b=b: diff_words(a, b)
            runs["in-process"]()
            # The engine as it was before DIFF4 (a frozen copy), in the same turns: an A/B.
            runs["before"] = lambda a=a, b=b: before.diff_words(a, b)
            runs["before"]()
            timed = interleaved(runs, PROCESS_RUNS, frozenset(("ours", "git")))
            proc = {name: wall for name, (wall, _) in timed.items()}
            cpu = {name: used for name, (_, used) in timed.items()}
            ours_in = proc["in-process"]
            assert rebuilds(diff_words(a, b), a, b)
            git_s = proc.get("git")
            label, bound = TARGETS[key]
            if bound is None:
                verdict = "met" if ours_in <= 0.001 else "missed"
            else:
                verdict = "met" if git_s and ours_in <= bound * git_s else "missed"
                if git_s and cpu["git"]:
                    verdict += (", by CPU " + ("met" if cpu["in-process"] <= bound * cpu["git"]
                                               else "missed"))
            print(
                f"{NAMES[key] + f' ({len(a) / 1000:.0f} KB)':<38} {proc['ours'] * 1000:>8.1f}ms "
                + (f"{git_s * 1000:>8.1f}ms {proc['ours'] / git_s:>6.1f}" if git_s else
                   f"{'no git':>10} {'':>6}")
                + f"   {ours_in * 1000:>10.2f}ms "
                + (f"{ours_in / git_s:>10.2f}" if git_s else f"{'':>10}")
                + f"  {cpu['in-process'] * 1000:>10.2f}ms "
                + (f"{cpu['git'] * 1000:>7.1f}ms {cpu['in-process'] / cpu['git']:>6.2f}"
                   if git_s and cpu["git"] else f"{'':>16}")
                + f"  {label}: {verdict}"
            )
            case = f"{NAMES[key]} ({len(a) / 1000:.0f} KB)"
            if bound is None:
                results.record(SECTION, case + ", in-process", ours_in * 1000,
                               reference="git's whole process" if git_s else None,
                               ref=git_s * 1000 if git_s else None,
                               target="≤ 1 ms", met=ours_in <= 0.001)
            elif git_s:
                results.record(SECTION, case + ", in-process", ours_in * 1000,
                               reference="git's whole process", ref=git_s * 1000,
                               target=f"≤ {bound:g}× git", met=ours_in <= bound * git_s)
            if git_s:
                results.record(SECTION, case + ", whole process", proc["ours"] * 1000,
                               reference="git's whole process", ref=git_s * 1000)
            print(f"    the engine before DIFF4, in the same turns: {cpu['before'] * 1000:.2f} ms "
                  f"CPU; ours ÷ before {cpu['in-process'] / cpu['before']:.2f}; same ops as "
                  f"it: {as_rows(diff_words(a, b)) == as_rows(before.diff_words(a, b))}")
        small(Path(tmp), env)
        early_look()
        merge(Path(tmp), git)
    print(f"Load average {os.getloadavg()[0]:.1f} at the end")
    results.write(args.json, "bench_diff")


if __name__ == "__main__":
    main()
