"""Bracket scanning on pathological texts of 1 MB each: every one should take under a second.

Run: python bench/bench_hostile.py [--repeat N]  (from the repository root; a few minutes).

For each input it prints the median time of `bracket_count` and `check` (the checker behind
`summit brackets`), and of `parse` for information, beside a reference measured in the same
run, interleaved: one regular-expression pass that only finds the bracket, backtick, backslash
and paren characters of the same text (the least any scanner must do), and the ratio to it. A
second table runs the former, quadratic scanner (kept in tests/test_brackets.py as the oracle)
on growing prefixes of the worst input beside the current one, to show the growth.
It asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from agenda.brackets import bracket_count, check, parse  # noqa: E402

SIZE = 1 << 20  # characters
LIMIT_S = 1.0
_FLOOR = re.compile(r"[\[\]`\\()]")


def fill(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def backtick_runs(size: int = SIZE) -> str:
    # Runs of 1..9 backticks in a cycle: most open a code span that never closes.
    parts: list[str] = []
    total, k = 0, 0
    while total < size:
        part = "`" * (k % 9 + 1) + "x"
        parts.append(part)
        total += len(part)
        k += 1
    return "".join(parts)[:size]


def inputs() -> dict[str, str]:
    half = SIZE // 2
    return {
        "[a]( repeated": fill("[a]("),
        "[ repeated": fill("["),
        "] repeated": fill("]"),
        "]( repeated": fill("]("),
        "[a](((( unclosed": "[a](" + fill("(", SIZE - 4),
        "` repeated (one run)": fill("`"),
        "backtick runs 1..9": backtick_runs(),
        "nested [[[[ ]]]]": "[" * half + "]" * half,
        "nested + a definition": "[" * (half - 8) + "x" + "]" * (half - 8) + "\n[x]: u\n",
        "escapes \\[": fill("\\["),
        "link definitions + refs": fill("[ref]: https://example.org\n[text][ref] [ref] "),
        "[a][ + a definition": "[a]: u\n" + fill("[a][", SIZE - 7),
        "long line, labels": fill("[IN: Indo-Pacific][RU: Asia-Pacific] the Sides agreed "),
        "no spaces": fill("[IN:x][RU:y]a(b)`c`"),
        "combining marks": fill("[a\u0301\u0302\u0303]\u0308"),
        "blank lines in links": fill("[a](b\n\n"),
    }


def median_s(fn: Callable[[], object], repeat: int, reference: Callable[[], object]
             ) -> tuple[float, float]:
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(repeat):  # interleaved: both see the same machine load
        start = time.perf_counter()
        reference()
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        fn()
        ours.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"{SIZE:,} characters per input; median of {args.repeat}; reference = one regex "
          "pass over the bracket, backtick, backslash and paren characters")
    header = (f"{'input':<26} {'count ms':>9} {'check ms':>9} {'ref ms':>7} {'count/ref':>9} "
              f" count+check under {LIMIT_S:.0f} s  {'parse ms':>9}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, text in inputs().items():
        def reference(text: str = text) -> int:
            return len(_FLOOR.findall(text))

        count_s, ref_s = median_s(lambda text=text: bracket_count(text), args.repeat, reference)
        check_s, _ = median_s(lambda text=text: check(text), args.repeat, reference)
        parse_s, _ = median_s(lambda text=text: parse(text), args.repeat, reference)
        slowest = max(count_s, check_s)
        worst = max(worst, slowest)
        print(f"{name:<26} {count_s * 1e3:>9.0f} {check_s * 1e3:>9.0f} {ref_s * 1e3:>7.0f} "
              f"{count_s / ref_s:>8.1f}x  {'yes' if slowest < LIMIT_S else 'NO':>20}  "
              f"{parse_s * 1e3:>9.0f}")
    print(f"slowest count or check: {worst * 1e3:.0f} ms (parse, which builds every group, "
          "is shown for information)")

    try:
        from test_brackets import _old_scan  # the former scanner, kept as the test oracle
    except ImportError:
        return
    print("\nGrowth on '[a](' repeated: former scanner beside the current one")
    print(f"{'characters':>10} {'former ms':>10} {'current ms':>11} {'ratio':>8}")
    for size in (4_000, 8_000, 16_000, 32_000):
        text = fill("[a](", size)
        old_s, new_s = median_s(lambda text=text: _old_scan(text), 1,
                                lambda text=text: bracket_count(text))
        print(f"{size:>10,} {old_s * 1e3:>10.0f} {new_s * 1e3:>11.1f} {old_s / new_s:>7.0f}x")


if __name__ == "__main__":
    main()
