"""The benchmark scripts still run (tiny bounds; the numbers themselves are not asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

BENCHMARKS = {
    "query_throughput": (
        ["--trials", "25", "--seconds", "0.2", "--most", "5"],
        ["ratio GraphQL / baseline"],
    ),
    # It checks that the dashboard's answer is the hand-written statements' first.
    "stats_query": (
        ["--trials", "25", "--seconds", "0.2", "--most", "5"],
        ["ratio GraphQL / baseline"],
    ),
    "read_paths": (
        ["--trials", "25", "--seconds", "0.2", "--most", "20"],
        ["planner time / raw SQL time", "Strawberry / graphql-core"],
    ),
    "ingest_throughput": (["--records", "300"], ["ratio pipeline / bulk insert"]),
    "ctgov_ingest": (
        ["--records", "200"],
        [
            "ratio ctgov / CSV per record",
            "ClinicalTrials.gov pages     trials, products, sites [200, 200, 1000] "
            "(expected [200, 200, 1000]): ok",
        ],
    ),
    "search_index": (
        ["--records", "300", "--queries", "3"],
        ["ratio with / without the index", "ratio search / substring"],
    ),
    "hostile_queries": (
        ["--repeat", "1"],
        ["ratio refusal / baseline", "all refused before any SQL: ok"],
    ),
    # 300 + 210 trials: the 90 of B that carry an NCT id of A merge into A's trials.
    "overlap_ingest": (
        ["--records", "300"],
        [
            "ratio loaded / empty",
            "clinical_trial rows                           510 (expected 510): ok",
            "trials with lund_skane and lumc records        90 (expected 90): ok",
            "merged trials whose feeds disagree             90 (of 90): ok",
        ],
    ),
}


@pytest.mark.parametrize("database", [[], ["--postgres"]], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs(name: str, database: list[str]) -> None:
    arguments, expected_lines = BENCHMARKS[name]
    result = subprocess.run(
        [sys.executable, f"benchmarks/{name}.py", *arguments, *database],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for line in expected_lines:
        assert line in result.stdout, result.stdout


def test_the_row_path_is_measured() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/row_path.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "one trial row and its product:" in result.stdout
    assert "0 hops climb to a higher layer" in result.stdout, result.stdout
