"""Benchmark word-diff engines and the merge on generated joint-statement texts.

Run: python bench/bench_diff.py  (from the repository root; finishes in about two minutes).
"""

from __future__ import annotations

import difflib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agenda.diff import Op, diff_words, tokenize  # noqa: E402
from agenda.merge import merge_texts  # noqa: E402

# An engine that would take longer than this for one run is not run again ("> cap").
CAP_S = 8.0
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
        "(a) 1 KB, few edits": (a1, b1),
        "(b) 50 KB, 100 paras, 5%": (a2, b2),
        "(c) 50 KB, one paragraph": (a2.replace("\n\n", " "), b2.replace("\n\n", " ")),
        "(d) 200 KB, share little": (a4, b4),
    }


def ops_from_opcodes(a: list[str], b: list[str], codes: list[tuple]) -> list[Op]:
    ops: list[Op] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal":
            ops.append(Op("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(Op("delete", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(Op("insert", "".join(b[j1:j2])))
    return ops


def difflib_engine(autojunk: bool) -> Callable[[str, str], list[Op]]:
    def run(x: str, y: str) -> list[Op]:
        a, b = tokenize(x), tokenize(y)
        sm = difflib.SequenceMatcher(None, a, b, autojunk=autojunk)
        return ops_from_opcodes(a, b, sm.get_opcodes())

    return run


def rapidfuzz_engine(x: str, y: str) -> list[Op]:
    from rapidfuzz.distance import Indel

    a, b = tokenize(x), tokenize(y)
    ids: dict[str, int] = {}
    ia = [ids.setdefault(t, len(ids)) for t in a]
    ib = [ids.setdefault(t, len(ids)) for t in b]
    return ops_from_opcodes(a, b, Indel.opcodes(ia, ib).as_list())


def dmp_engine() -> Callable[[str, str], list[Op]] | None:
    try:
        import diff_match_patch
    except ImportError:
        return None

    def run(x: str, y: str) -> list[Op]:
        dmp = diff_match_patch.diff_match_patch()
        dmp.Diff_Timeout = 1.0
        a, b = tokenize(x), tokenize(y)
        ids: dict[str, str] = {}
        ca = "".join(ids.setdefault(t, chr(0x100 + len(ids))) for t in a)
        cb = "".join(ids.setdefault(t, chr(0x100 + len(ids))) for t in b)
        back = {c: t for t, c in ids.items()}
        diffs = dmp.diff_main(ca, cb, False)
        dmp.diff_cleanupSemantic(diffs)
        kinds = {0: "equal", 1: "insert", -1: "delete"}
        return [Op(kinds[k], "".join(back[c] for c in s)) for k, s in diffs]

    return run


def git_engine() -> Callable[[str, str], list[Op]] | None:
    git = shutil.which("git")
    if git is None:
        return None

    def run(x: str, y: str) -> list[Op]:
        with tempfile.TemporaryDirectory() as tmp:
            pa, pb = Path(tmp, "a.txt"), Path(tmp, "b.txt")
            pa.write_text(x, encoding="utf-8")
            pb.write_text(y, encoding="utf-8")
            out = subprocess.run(
                [git, "diff", "--no-index", "--word-diff=porcelain", str(pa), str(pb)],
                capture_output=True,
                text=True,
                encoding="utf-8",
            ).stdout
        ops: list[Op] = []
        for line in out.splitlines():
            if line.startswith("-") and not line.startswith("---"):
                ops.append(Op("delete", line[1:]))
            elif line.startswith("+") and not line.startswith("+++"):
                ops.append(Op("insert", line[1:]))
        return ops

    return run


def rebuilds(ops: list[Op], a: str, b: str) -> str:
    x = "".join(o.text for o in ops if o.op != "insert")
    y = "".join(o.text for o in ops if o.op != "delete")
    return "yes" if (x, y) == (a, b) else "no"


def measure(fn: Callable[[str, str], object], a: str, b: str) -> tuple[str, object]:
    start = time.perf_counter()
    result = fn(a, b)
    first = time.perf_counter() - start
    if first > CAP_S:
        return f">{CAP_S:.0f}s (1 run: {first * 1000:,.0f})", result
    repeats = 1 if first > 2 else 3 if first > 0.2 else 7
    times = [first]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        fn(a, b)
        times.append(time.perf_counter() - start)
    return f"{statistics.median(times) * 1000:,.2f}", result


def main() -> None:
    engines: list[tuple[str, Callable[[str, str], list[Op]] | None]] = [
        ("ours: diff_words", diff_words),
        ("difflib autojunk=True", difflib_engine(True)),
        ("difflib autojunk=False", difflib_engine(False)),
        ("rapidfuzz Indel.opcodes", rapidfuzz_engine),
        ("diff-match-patch words", dmp_engine()),
        ("git diff --word-diff", git_engine()),
    ]
    # Engines known to blow far past the cap are not started on the big cases.
    too_slow = {
        ("difflib autojunk=False", "(b)"),
        ("difflib autojunk=False", "(c)"),
        ("difflib autojunk=False", "(d)"),
    }
    print(f"{'case':<27} {'engine':<25} {'median ms':>20} {'hunks':>7} rebuilds")
    for case, (a, b) in cases().items():
        ours_ms = git_ms = None
        print(f"{case} — {len(a) / 1000:.0f} KB vs {len(b) / 1000:.0f} KB")
        for name, fn in engines:
            if fn is None:
                print(f"{'':<27} {name:<25} {'not installed':>20}")
                continue
            if (name, case[:3]) in too_slow:
                print(f"{'':<27} {name:<25} {'> cap (quadratic)':>20}")
                continue
            ms, ops = measure(fn, a, b)
            hunks = sum(1 for o in ops if o.op != "equal")
            check = "n/a (no equal text)" if name.startswith("git") else rebuilds(ops, a, b)
            print(f"{'':<27} {name:<25} {ms:>20} {hunks:>7} {check}")
            if name.startswith("ours"):
                ours_ms = float(ms.replace(",", "")) if ms[0].isdigit() else None
            if name.startswith("git"):
                git_ms = float(ms.replace(",", "")) if ms[0].isdigit() else None
        if ours_ms is not None and git_ms:
            print(f"{'':<27} {'ours / git':<25} {ours_ms / git_ms:>20.2f}")
    a, b = cases()["(b) 50 KB, 100 paras, 5%"]
    rng = random.Random(7)
    other = edit(rng, a, 0.05)
    ms, result = measure(lambda x, y: merge_texts(x, {"IN": y, "RU": other}), a, b)
    print(f"merge_texts 50 KB, two sides with 5% edits each: {ms} ms, {result.conflicts} conflicts")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
