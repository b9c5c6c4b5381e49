"""How fast a feed goes in, against a raw SQLAlchemy Core bulk insert of the same rows.

Generates N trials in the Lund/Skåne CSV shape (each with a registry id, a sponsor, a phase, a
status, a start date), ingests them through the whole pipeline (read → validate → write →
report), then inserts the same rows (trials, source records, their links) into an empty database
with Core `insert()` executemany: what writing them costs without any of the pipeline's work.
Also reports the ingest's peak memory (tracemalloc), at N and at N/10, to show it stays flat.

    python benchmarks/ingest_throughput.py [--records N] [--postgres [URL]]
"""

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).parents[1]))

import model as m
from model.database import make_engine, upgrade
from plugins.builtin.collaboration import CollaborationFeed
from plugins.builtin.lund_skane import LundSkaneFeed
from plugins.ingest import ingest
from tests.factories import write_flat_trials_export as write_export


def raw_rows(count: int) -> Iterator[tuple[dict[str, object], dict[str, object]]]:
    now = dt.datetime.now(dt.UTC)
    for n in range(count):
        trial = {
            "id": n + 1,
            "nct_id": f"NCT{10000000 + n}",
            "local_id": f"B-{n:07d}",
            "title": f"Benchmark trial {n}",
            "phase": "PHASE1",
            "status": "RECRUITING",
            "enrollment": n % 500,
            "start_date": dt.date(2024, n % 12 + 1, 1),
            "sponsor_id": 1,
        }
        source = {
            "id": n + 1,
            "feed": "bench",
            "entity_type": "clinical_trial",
            "source_id": f"B-{n:07d}",
            "fetched_at": now,
            "content_hash": hashlib.sha256(str(trial).encode()).hexdigest(),
        }
        yield trial, source


def bulk_insert(url: str, count: int, batch: int = 5000) -> float:
    """Core executemany of the same rows, in batches, one transaction each; returns seconds."""
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(m.Institution).values(id=1, name="Region Skåne", kind="HEALTHCARE_AUTHORITY")
        )
    started = time.perf_counter()
    rows = raw_rows(count)
    while chunk := [row for _, row in zip(range(batch), rows, strict=False)]:
        with engine.begin() as connection:
            connection.execute(insert(m.ClinicalTrial), [trial for trial, _ in chunk])
            connection.execute(insert(m.SourceRecord), [source for _, source in chunk])
            connection.execute(
                insert(m.EntitySource),
                [
                    {
                        "source_record_id": s["id"],
                        "entity_type": "clinical_trial",
                        "entity_id": t["id"],
                    }
                    for t, s in chunk
                ],
            )
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        assert connection.scalar(select(text("count(*)")).select_from(m.ClinicalTrial)) == count
    engine.dispose()
    return seconds


def pipeline(url: str, export: Path, count: int, *, trace: bool = False) -> tuple[float, int]:
    """Seconds of ingesting the export through the pipeline, and its peak traced memory.

    tracemalloc slows Python down several times, so speed and memory are separate runs.
    """
    upgrade(url)
    engine = make_engine(url)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    report = ingest(engine, LundSkaneFeed(), export)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    assert (report.read, report.created, report.quarantined) == (count, count, 0), report.summary()
    engine.dispose()
    return seconds, peak


@contextmanager
def scratch(postgres: str | None, workdir: Path, name: str) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite:///{workdir / name}.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        nargs="?",
        const="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="use this PostgreSQL database, in scratch schemas (default: SQLite files)",
    )
    args = parser.parse_args()
    count = args.records
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        small = write_export(workdir / "small", max(count // 10, 1))
        export = write_export(workdir / "export", count)
        with scratch(args.postgres, workdir, "raw") as url:
            raw_seconds = bulk_insert(url, count)
        with scratch(args.postgres, workdir, "pipeline") as url:
            seconds, _ = pipeline(url, export, count)
        with scratch(args.postgres, workdir, "small") as url:
            _, small_peak = pipeline(url, small, max(count // 10, 1), trace=True)
        with scratch(args.postgres, workdir, "traced") as url:
            _, peak = pipeline(url, export, count, trace=True)
    print(f"{'Core bulk insert of the same rows':<36} {count / raw_seconds:10.0f} records/s")
    print(f"{'ingest pipeline':<36} {count / seconds:10.0f} records/s")
    print(f"{'ratio pipeline / bulk insert':<36} {raw_seconds / seconds:10.2f}")
    print(
        f"{'peak memory at N/10 and N':<36} {small_peak / 2**20:6.1f} MiB {peak / 2**20:6.1f} MiB"
    )


if __name__ == "__main__":
    main()
