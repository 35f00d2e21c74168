"""bench/report.py makes the README's performance section from the benches' figures only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report, results

ROOT = Path(__file__).resolve().parent.parent


def sitting(bench: str, rows: list[dict[str, object]], argv: list[str] | None = None,
            ) -> dict[str, object]:
    return {"bench": bench, "argv": argv or [], "started": "2026-11-28 05:00 UTC",
            "ended": "2026-11-28 05:10 UTC", "load": [0.3, 1.2],
            "machine": {"cpu": "Some CPU", "cores": 2, "memory_gib": 24, "python": "3.11.7",
                        "system": "Linux"},
            "rows": rows}


def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    monkeypatch.setattr(results, "ROWS", rows)
    results.record("Demo", "summit items", 36.0, reference="floor", ref=30.0,
                   target="≤ 1.5×", met=True)
    results.record("Demo", "summit table", 48.0, reference="floor", ref=30.0,
                   target="≤ 1.5×", met=False, note="a | in a note")
    results.record("Word diff", "(a) whole process", 35.0, reference="git's whole process",
                   ref=2.0)
    return rows


def test_a_recorded_figure_keeps_its_reference_ratio_and_verdict(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = recorded(monkeypatch)
    assert rows[0]["ratio"] == pytest.approx(1.2)
    assert (rows[1]["met"], rows[2]["target"], rows[2]["met"]) == (False, None, None)


def test_write_saves_the_figures_with_the_machine(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    recorded(monkeypatch)
    results.write(None, "bench_x")  # without --json: nothing written, nothing raised
    results.write(tmp_path / "x.json", "bench_x")
    saved = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert saved["bench"] == "bench_x" and len(saved["rows"]) == 3
    assert {"cpu", "cores", "memory_gib", "python", "system"} <= saved["machine"].keys()
    assert saved["machine"]["cores"] >= 1


def test_the_section_names_the_machine_and_puts_a_reference_beside_every_figure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = recorded(monkeypatch)
    section = report.render([sitting("bench_startup", rows[:2],
                                     ["--runs", "27", "--keep", "/some/dir", "--json", "/x.json"]),
                             sitting("bench_diff", rows[2:])])
    assert section.startswith(report.BEGIN) and section.endswith(report.END + "\n")
    assert "Some CPU (2 cores, 24 GiB), Python 3.11.7" in section
    assert "load average 0.3 → 1.2" in section
    # The command as it ran, less this machine's paths.
    assert "### `python bench/bench_startup.py --runs 27`" in section
    assert "/some/dir" not in section and "/x.json" not in section
    table = [line for line in section.splitlines() if line.startswith("| ") and "ms" in line]
    assert table == [
        "| summit items | 36.0 ms | floor: 30.0 ms | 1.20× | ≤ 1.5×: met |",
        "| summit table (a \\| in a note) | 48.0 ms | floor: 30.0 ms | 1.60× | "
        "≤ 1.5×: **missed** |",
        "| (a) whole process | 35.0 ms | git's whole process: 2.00 ms | 17.50× | — |",
    ]
    assert "bench/HISTORY.md" in section


def test_the_readme_gets_the_section_between_its_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n## Performance\n\n{report.BEGIN}\nold\n{report.END}\n\n"
                      "## Next\n", encoding="utf-8")
    section = f"{report.BEGIN}\nnew figures\n{report.END}\n"
    report.write_readme(readme, section)
    once = readme.read_text(encoding="utf-8")
    assert once == f"# Title\n\n## Performance\n\n{section}\n## Next\n"
    report.write_readme(readme, section)
    assert readme.read_text(encoding="utf-8") == once


def test_a_readme_without_the_markers_is_left_as_it_was(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n## Performance\nby hand\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no generated performance section"):
        report.write_readme(readme, f"{report.BEGIN}\nx\n{report.END}\n")
    assert readme.read_text(encoding="utf-8") == "# Title\n\n## Performance\nby hand\n"


def test_the_project_readme_has_the_markers_once() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert text.index(report.BEGIN) < text.index(report.END)


def test_rendering_with_no_figures_says_so(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--render-only",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"report: no figures in {tmp_path}: run the benches first (without --render-only)"]


@pytest.mark.parametrize("bench", [name for name, _, _ in report.BENCHES])
def test_every_bench_of_the_sitting_takes_json(bench: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / f"{bench}.py"), "--help"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "--json PATH" in done.stdout
