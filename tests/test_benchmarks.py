"""The benchmark scripts still run (tiny bounds; the numbers themselves are not asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("database", [[], ["--postgres"]], ids=["sqlite", "postgresql"])
def test_query_throughput_benchmark_runs(database: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/query_throughput.py", "--trials", "25",
         "--seconds", "0.2", "--most", "5", *database],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ratio GraphQL / baseline" in result.stdout


@pytest.mark.parametrize("database", [[], ["--postgres"]], ids=["sqlite", "postgresql"])
def test_ingest_throughput_benchmark_runs(database: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/ingest_throughput.py", "--records", "300", *database],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ratio pipeline / bulk insert" in result.stdout
