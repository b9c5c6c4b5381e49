"""How fast a feed goes in, against a raw SQLAlchemy Core bulk insert of the same rows.

Generates N trials in the Lund/Skåne CSV shape (each with a registry id, a sponsor, a phase, a
status, a start date), ingests them through the whole pipeline (read → validate → write →
report), and, as the baseline, inserts the same rows (every column of the trials, their source
records and the links between them) into an empty database with Core `insert()` executemany,
in transactions of the pipeline's batch size: what writing them costs without the pipeline.
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
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.identity.claims import encode
from atmp_graph.ingest import BATCH_SIZE, ingest
from atmp_graph.ingest.claims import TRIAL_FIELDS
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.exports import write_flat_trials_export as write_export
from benchmarks.scratch import add_postgres_option, scratch_database


def raw_rows(count: int, source_uri: str) -> Iterator[tuple[dict[str, object], dict[str, object]]]:
    """The rows the pipeline writes for `count` generated trials, column for column."""
    now = dt.datetime.now(dt.UTC)
    for n in range(count):
        trial = {
            "id": n + 1,
            "nct_id": f"NCT{10000000 + n}",
            "eudract_id": None,
            "euct_id": None,
            "local_id": f"B-{n:07d}",
            "title": f"Benchmark trial {n}",
            "acronym": None,
            "phase": "PHASE1",
            "status": "RECRUITING",
            "start_date": dt.date(2024, n % 12 + 1, 1),
            "completion_date": None,
            "enrollment": n % 500,
            "study_type": None,
            "sponsor_id": 1,
        }
        source = {
            "id": n + 1,
            "feed": "lund_skane",
            "entity_type": "clinical_trial",
            "source_id": f"B-{n:07d}",
            "source_uri": source_uri,
            "plugin_version": "1.0",
            "fetched_at": now,
            "content_hash": hashlib.sha256(str(trial).encode()).hexdigest(),
            "identifiers": [["nct", trial["nct_id"]]],
            # What the record says of each field, as the pipeline keeps it for provenance.
            "claims": {
                **{name: encode(trial[name]) for name in TRIAL_FIELDS},
                "sponsor": {"name": "Region Skåne"},
                "sites": [],
            },
            "run_id": 1,
            "row": n + 2,
        }
        yield trial, source


def bulk_insert(url: str, count: int, source_uri: str, batch: int = BATCH_SIZE) -> float:
    """Core executemany of the same rows, in batches, one transaction each; returns seconds."""
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(m.Institution).values(id=1, name="Region Skåne", kind="HEALTHCARE_AUTHORITY")
        )
    started = time.perf_counter()
    rows = raw_rows(count, source_uri)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    add_postgres_option(parser)
    args = parser.parse_args()
    count = args.records
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        small = write_export(workdir / "small", max(count // 10, 1))
        export = write_export(workdir / "export", count)
        with scratch_database(args.postgres, workdir, "raw") as url:
            raw_seconds = bulk_insert(url, count, str(export))
        with scratch_database(args.postgres, workdir, "pipeline") as url:
            seconds, _ = pipeline(url, export, count)
        with scratch_database(args.postgres, workdir, "small") as url:
            _, small_peak = pipeline(url, small, max(count // 10, 1), trace=True)
        with scratch_database(args.postgres, workdir, "traced") as url:
            _, peak = pipeline(url, export, count, trace=True)
    print(f"{'Core bulk insert of the same rows':<36} {count / raw_seconds:10.0f} records/s")
    print(f"{'ingest pipeline':<36} {count / seconds:10.0f} records/s")
    print(f"{'ratio pipeline / bulk insert':<36} {raw_seconds / seconds:10.2f}")
    print(
        f"{'peak memory at N/10 and N':<36} {small_peak / 2**20:6.1f} MiB {peak / 2**20:6.1f} MiB"
    )


if __name__ == "__main__":
    main()
