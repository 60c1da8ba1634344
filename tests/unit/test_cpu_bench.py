"""The CPU benchmark (`make bench`) runs every path on the code as it is: it measures through the public seams
(`service.Transformation`, `service.write_message`), so a change to what they call cannot break it unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.cpu_bench import FLOOR, PATHS
from tools.cpu_stages import FLOOR as STAGES_FLOOR

ROOT = Path(__file__).resolve().parents[2]


def test_every_path_of_the_cpu_benchmark_runs_and_is_reported() -> None:
    command = [sys.executable, "-m", "tools.cpu_bench", "--records", "200", "--rounds", "1"]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert ran.returncode == 0, ran.stderr[-3000:]
    table = [line for line in ran.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0].removeprefix("| ") for row in table[2:]] == list(PATHS)  # past the heading rows


def test_two_trees_are_measured_side_by_side_in_one_run() -> None:
    command = [sys.executable, "-m", "tools.cpu_bench", "--records", "200", "--rounds", "1", "--against", str(ROOT)]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert ran.returncode == 0, ran.stderr[-3000:]
    rows = [line.split(" | ") for line in ran.stdout.splitlines() if line.startswith("| ")][2:]
    assert [row[0].removeprefix("| ") for row in rows] == list(PATHS)
    assert all(len(row) == 5 for row in rows), "each path: its rate and ratio before, then after"


def test_only_the_paths_asked_for_are_measured_beside_the_floor() -> None:
    command = [sys.executable, "-m", "tools.cpu_bench", "--records", "200", "--rounds", "2", "--only", "transformer"]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert ran.returncode == 0, ran.stderr[-3000:]
    rows = [line.split(" | ") for line in ran.stdout.splitlines() if line.startswith("| ")][2:]
    assert [row[0].removeprefix("| ") for row in rows] == [FLOOR, "transformer"]
    assert "load average" in ran.stdout.splitlines()[-1], "the run ends with the load it ran under"


def test_the_transformers_stages_are_measured_beside_the_floor() -> None:
    command = [sys.executable, "-m", "tools.cpu_stages", "--records", "400", "--rounds", "1"]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert ran.returncode == 0, ran.stderr[-3000:]
    rows = [line.split(" | ") for line in ran.stdout.splitlines() if line.startswith("| ")][2:]
    assert rows[0][0].removeprefix("| ") == STAGES_FLOOR
    assert rows[0][3] == "1.00 |"
    assert [row[0].removeprefix("| ") for row in rows[-2:]] == [
        "the Transformer path, no invalid record",
        "the Transformer path, 5 % invalid",
    ]
    assert all(float(row[1]) > 0 for row in rows), "every stage is timed"
