"""An ingest killed half-way leaves whole batches only, and running it again completes it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, select

import atmp_graph.model as m
from atmp_graph.model.database import make_engine
from benchmarks.exports import write_flat_trials_export

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
TRIALS = 30_000


def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATMP_DATABASE_URL": url}
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env, timeout=300, check=True
    )


def _count(connection: sa.Connection, model: type[m.Base]) -> int:
    return connection.scalar(select(func.count()).select_from(model)) or 0


def _kill_after_first_batches(url: str, export: Path, engine: sa.Engine) -> None:
    env = {**os.environ, "ATMP_DATABASE_URL": url}
    with subprocess.Popen(
        [COMMAND, "ingest", "lund_skane", str(export)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) as ingest:  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and ingest.poll() is None:
            with engine.connect() as connection:
                read = connection.scalar(
                    select(func.max(m.IngestRun.read)).where(m.IngestRun.feed == "lund_skane")
                )
            if read and read >= 2000:
                ingest.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        assert ingest.wait(timeout=30) == -signal.SIGKILL, "the ingest ended before it was killed"


def test_killed_ingest_reruns_to_the_same_result(database_url: str, tmp_path: Path) -> None:
    export = write_flat_trials_export(tmp_path / "export", TRIALS)
    run("db", "upgrade", url=database_url)
    engine = make_engine(database_url)

    _kill_after_first_batches(database_url, export, engine)

    with engine.connect() as connection:
        # Consistent: every trial written has its source record, and nothing else is there.
        kept = _count(connection, m.ClinicalTrial)
        assert 0 < kept < TRIALS
        assert kept % 1000 == 0, "a batch was half-written"
        assert _count(connection, m.SourceRecord) == kept
        built = select(func.count()).where(m.EntitySource.entity_type == "clinical_trial")
        assert connection.scalar(built) == kept

    rerun = run("ingest", "lund_skane", str(export), url=database_url)

    assert rerun.stdout.splitlines()[0] == (
        f"lund_skane: read {TRIALS}, created {TRIALS - kept}, updated 0, unchanged {kept}, "
        "quarantined 0"
    )
    with engine.connect() as connection:
        assert _count(connection, m.ClinicalTrial) == TRIALS
        titles = set(connection.scalars(select(m.ClinicalTrial.title)))
        runs = connection.execute(
            select(m.IngestRun.status, m.IngestRun.error).order_by(m.IngestRun.id)
        ).all()
    assert titles == {f"Benchmark trial {n}" for n in range(TRIALS)}
    assert [(status.value, error) for status, error in runs] == [
        ("FAILED", "interrupted before it finished"),
        ("SUCCEEDED", None),
    ]
    engine.dispose()
