"""The benchmark scripts still run (tiny bounds; the numbers themselves are not asserted)."""

import json
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
    "search_paths": (
        ["--trials", "25", "--seconds", "0.2", "--most", "5"],
        ["resolvers / planner", "a new search each time"],
    ),
    "at_scale": (
        ["--trials", "1000", "--repeat", "1"],
        ["filtered, ordered first page", "keyset page 10 of 100", "search, one word"],
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


def test_both_read_shapes_are_measured_on_postgresql() -> None:
    """JSON and compact rows (SQLite has no arrays): the benchmark checks both answer alike
    before it times them."""
    result = subprocess.run(
        [sys.executable, "benchmarks/read_shapes.py", "--trials", "300", "--repeat", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("rows / JSON, total CPU:") == 2, result.stdout


def test_the_peer_benchmark_runs(tmp_path: Path) -> None:
    """PostGraphile and ours over a PostgreSQL of the benchmark's own: both give the same
    answers, and the tables print.  The first run on a machine also runs `npm ci` from
    benchmarks/peer/package-lock.json (about 20 s with npm's cache warm)."""
    numbers = tmp_path / "peer.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/peer_postgraphile.py", "--quick", "--seconds", "1",
         "--warmup", "0", "--json", str(numbers)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    for line in [
        "small: both servers give the same 20 trials, 100 sites: ok",
        "big: both servers give the same 500 trials, 2500 sites: ok",
        "| ours / peer | requests/s (target 2×) | total CPU / request (target below 1) |",
        "| ours / peer | requests/s (target 3×) | total CPU / request (target below 1) |",
        "PostGraphile runs as one Node process",
    ]:
        assert line in result.stdout, result.stdout
    report = json.loads(numbers.read_text())
    assert report["data"] | {"ingest_seconds": 0} == {
        "trials": 2000,
        "institutions": 2000,
        "sites": 10000,
        "sites_at_an_institution": 10000,
        "ingest_seconds": 0,
    }
    assert set(report["cases"]["small"]["servers"]) == {
        "PostGraphile 5.1.5, 1 Node process",
        "ATMP Graph, 1 uvicorn worker",
        "ATMP Graph, 2 uvicorn workers",
    }


def test_load_and_faults_hold_in_their_short_form() -> None:
    """Two web workers and a job worker on their own PostgreSQL and Redis, each restarted under
    load: the script's checks (no errors, clear fast failures, recovery, no event lost, the
    ingest's result) all hold."""
    result = subprocess.run(
        [sys.executable, "benchmarks/load_and_faults.py", "--seconds", "5", "--fault-seconds",
         "10", "--outage", "2", "--clients", "8", "--subscribers", "2", "--studies", "300"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks held" in result.stdout, result.stdout
