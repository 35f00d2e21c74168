"""The figures a bench prints, kept as data too, for `bench/report.py`.

A bench calls `record()` for each figure it prints (ours, the reference measured in the same
run, the target) and, given `--json PATH`, `write()` saves them with the machine they were
measured on. `bench/report.py` runs the benches and regenerates the README's performance
section from those files, so that the README says what the benches printed, nothing else.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROWS: list[dict[str, Any]] = []
STARTED = {"at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": os.getloadavg()[0]}


def record(section: str, case: str, ours: float, unit: str = "ms", *,
           reference: str | None = None, ref: float | None = None,
           target: str | None = None, met: bool | None = None, note: str = "") -> None:
    """One printed figure. `ours` and `ref` in `unit`; `target` as the issue words it
    ("≤ 1.5× the floor", "< 200 ms"); `met` whether this figure meets it."""
    ROWS.append({"section": section, "case": case, "ours": ours, "unit": unit,
                 "reference": reference, "ref": ref,
                 "ratio": ours / ref if ref else None,
                 "target": target, "met": met, "note": note})


def machine() -> dict[str, Any]:
    """What the figures were measured on: the processor, cores, memory, Python, the system."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024)
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory,
            "python": platform.python_version(), "system": platform.platform()}


def write(path: Path | None, bench: str) -> None:
    """Save every recorded figure of this run to `path` (nothing without `--json`)."""
    if path is None:
        return
    data = {"bench": bench, "argv": sys.argv[1:], "machine": machine(),
            "started": STARTED["at"], "load": [STARTED["load"], os.getloadavg()[0]],
            "ended": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": ROWS}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
