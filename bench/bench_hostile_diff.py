"""Pathological texts of 1 MB through the tokenizer, the word diff and the merge.

Run: python bench/bench_hostile_diff.py  (from the repository root; about two minutes).

Each text is what a hostile or careless delegate could table: one character repeated, `[a](`
repeated, deeply nested brackets, one giant word, no spaces at all, many tiny lines,
combining marks piled on one letter, a ZWJ chain. For each, in-process medians of:
  tokenize      the text alone;
  table         diff and merge of an ordinary paragraph against the hostile text (tabling it);
  edit          diff of the text against a copy edited in the middle, and a merge of two such
                copies against it;
  both ends     diff of the text against a copy edited at its first and last character, where
                nothing can be skipped.
Target: every figure under a second at 1 MB. Beside each, the same at 256 KB: a ratio near 4
means linear time. Reference, measured in the same run: git's word diff of the edited copy as
a whole process (`git diff --no-index --word-diff`), when git is installed.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agenda.diff import diff_words, tokenize  # noqa: E402
from agenda.merge import merge_texts  # noqa: E402

MB = 1_000_000
PARAGRAPH = (
    "The Sides agreed to launch the Chennai–Vladivostok maritime corridor by 2030 and "
    "welcomed progress in the Indo-Pacific."
)


def pathological(size: int) -> dict[str, str]:
    return {
        "one character": "a" * size,
        "lone punctuation": "." * size,
        "[a]( repeated": "[a](" * (size // 4),
        "nested brackets": "(" * (size // 2) + ")" * (size // 2),
        "one giant word": "x" * (size - 1) + ".",
        "no spaces": "word." * (size // 5),
        "tiny lines": "a\n" * (size // 2),
        "combining marks": "क" + "\u093f" * (size - 1),
        "ZWJ chain": "👍" + "\u200d👍" * (size // 2 - 1),
        "spaces only": " " * size,
    }


def edited(text: str, at: int, new: str = " X ") -> str:
    return text[:at] + new + text[at + len(new) :]


def operations(text: str) -> dict[str, Callable[[], object]]:
    mid = len(text) // 2
    one, two = edited(text, mid), edited(text, mid - len(text) // 8, " Y ")
    ends = "Z" + text[1:-1] + "Z"
    return {
        "tokenize": lambda: tokenize(text),
        "table: diff": lambda: diff_words(PARAGRAPH, text),
        "table: merge": lambda: merge_texts(PARAGRAPH, {"IN": text, "RU": PARAGRAPH + " Soon."}),
        "edit: diff": lambda: diff_words(text, one),
        "edit: merge": lambda: merge_texts(text, {"IN": one, "RU": two}),
        "both ends: diff": lambda: diff_words(text, ends),
    }


def median_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def git_word_diff(text: str, tmp: Path) -> float | None:
    git = shutil.which("git")
    if git is None:
        return None
    pa, pb = tmp / "a.txt", tmp / "b.txt"
    pa.write_text(text, encoding="utf-8")
    pb.write_text(edited(text, len(text) // 2), encoding="utf-8")
    cmd = [git, "diff", "--no-index", "--word-diff", str(pa), str(pb)]
    return median_seconds(lambda: subprocess.run(cmd, capture_output=True))


def main() -> None:
    big, small = pathological(MB), pathological(MB // 4)
    names = list(operations("x"))
    print(f"{'text (1 MB)':<18}" + "".join(f"{n:>20}" for n in names) + f"{'git word diff':>15}")
    print(f"{'':<18}" + "".join(f"{'ms (×256 KB)':>20}" for _ in names) + f"{'ms':>15}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in big.items():
            cells = []
            small_ops = operations(small[name])
            for op, run in operations(text).items():
                seconds = median_seconds(run)
                worst = max(worst, seconds)
                ratio = seconds / max(median_seconds(small_ops[op]), 1e-6)
                cells.append(f"{seconds * 1000:>11.0f} ({ratio:>4.1f}×)")
            git_s = git_word_diff(text, Path(tmp))
            git_cell = f"{git_s * 1000:>15.0f}" if git_s is not None else f"{'no git':>15}"
            print(f"{name:<18}" + "".join(f"{c:>20}" for c in cells) + git_cell, flush=True)
    print(f"slowest: {worst * 1000:.0f} ms; target: every figure under 1000 ms "
          f"({'met' if worst < 1 else 'missed'})")


if __name__ == "__main__":
    main()
