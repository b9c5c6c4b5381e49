"""The `atmp-graph` command as a user runs it: real processes, real databases, real HTTP."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.manager import build_plugin_host
from tests.live_server import serving

ROOT = Path(__file__).parents[2]
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
# The built-in feeds, and those of the plugins installed here (the example's, where it is).
FEEDS = ", ".join(sorted(build_plugin_host().feeds()))


def run(
    *args: str, url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATMP_DATABASE_URL": url} if url else dict(os.environ)
    if not url:
        env.pop("ATMP_DATABASE_URL", None)
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def _one_sentence_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ingest_reports_and_quarantines(database_url: str) -> None:
    assert run("db", "upgrade", url=database_url).returncode == 0
    run("ingest", "collaboration", str(sample_path("collaboration")), url=database_url)

    result = run("ingest", "lund_skane", str(sample_path("lund_skane")), url=database_url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "lund_skane: read 22, created 13, updated 0, unchanged 0, quarantined 9"
    assert (
        "  quarantined: lund_skane: projects.csv row 7 (LU-P-0006): Start '2024-13-01' is not a "
        "date (YYYY-MM-DD)"
    ) in lines


def test_dry_run_says_so_and_writes_nothing(database_url: str) -> None:
    run("db", "upgrade", url=database_url)
    path = str(sample_path("lund_skane"))

    dry = run("ingest", "lund_skane", path, "--dry-run", url=database_url)
    real = run("ingest", "lund_skane", path, url=database_url)

    assert dry.stdout.splitlines()[0].endswith("quarantined 9 (dry run: nothing written)")
    assert real.stdout.splitlines()[0].startswith("lund_skane: read 22, created 13,")


@pytest.mark.parametrize(
    ("args", "url", "message"),
    [
        (("ingest", "nope", "."), None,
         f"Error: there is no feed named 'nope'; the feeds are: {FEEDS}"),
        (("ingest", "lund_skane", "/no/such/export"), None,
         "Error: lund_skane: ingest of /no/such/export stopped: /no/such/export does not exist"),
        (("db", "upgrade"), "mysql://root@127.0.0.1/test",
         "Error: database URL 'mysql://root@127.0.0.1/test' is not SQLite or PostgreSQL"),
        (("db", "upgrade"), "postgresql+psycopg://postgres@127.0.0.1:9/test",
         "Error: cannot use the database: connection failed: connection to server at "
         '"127.0.0.1", port 9 failed: Connection refused'),
    ],
)  # fmt: skip
def test_mistakes_get_one_clear_sentence(
    tmp_path: Path, args: tuple[str, ...], url: str | None, message: str
) -> None:
    assert _one_sentence_error(run(*args, url=url, cwd=tmp_path)) == message


def test_serve_refuses_an_unmigrated_postgres(postgres_database_url: str) -> None:
    # A SQLite file is the embedded default and serve migrates it; PostgreSQL is migrated on
    # purpose, with `db upgrade`, by whoever runs it.
    message = _one_sentence_error(run("serve", url=postgres_database_url))
    assert message == (
        "Error: the database has no ATMP Graph tables yet: run `atmp-graph db upgrade` first"
    )


def test_export_schema_prints_the_committed_sdl() -> None:
    result = run("export-schema")
    assert result.stdout == (ROOT / "schema.graphql").read_text(encoding="utf-8")


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """`atmp-graph serve --demo` in an empty directory, as the quick start runs it."""
    with serving(COMMAND, "--demo", cwd=tmp_path) as base:
        yield base
    assert (tmp_path / "atmp-graph.db").exists()


def test_quick_start_serves_stem_pd_over_live_http(demo_server: str) -> None:
    query = """{ trial(registryId: "NCT05635409") {
        acronym eudractId sites { name city } products { name } } }"""

    response = httpx2.post(f"{demo_server}/graphql", json={"query": query}, timeout=10)

    assert response.json() == {
        "data": {
            "trial": {
                "acronym": "STEM-PD",
                "eudractId": "2021-001366-38",
                # One site per place, named as Lund/Skåne's export (ranked first) names it.
                "sites": [
                    {"name": "Skånes universitetssjukhus", "city": "Lund"},
                    {"name": "Addenbrooke's Hospital", "city": "Cambridge"},
                ],
                "products": [
                    {"name": "STEM-PD dopaminerga progenitorceller"},
                    {"name": "STEM-PD"},
                ],
            }
        },
        # 1 + acronym + eudractId + sites (1 + 20 x 2) + products (1 + 20 x 1)
        "extensions": {
            "cost": {"requested": 65, "limit": 100_000},
            "readPath": {"compiled": ["trial"], "resolvers": []},
        },
    }
