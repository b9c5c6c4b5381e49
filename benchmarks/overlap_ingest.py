"""How fast a second feed goes in when part of it matches trials the graph already holds.

The target: matching stays index-backed, so ingesting N trials that overlap 30 % with an
already loaded set takes no more than twice the time of ingesting them into an empty database.

Set A is N trials in the Lund/Skåne CSV shape (trial n has NCT{10000000 + n}), ingested with
the `lund_skane` feed. Set B is N trials in LUMC's JSON export shape, written study by study,
with their own study ids, titles, short names, phases, states, sponsor and dates: a share of
them (`--overlap`, spread evenly) carries the NCT id of an A trial, so it must merge into that
trial; the rest carry NCT ids A does not have. Phases and states of B cycle differently from
A's, so merged trials disagree on some values, as feeds do.

Both runs start from a fresh database holding the collaboration's reference data. The
baseline ingests B into it as it is (no trials); the measured run first ingests A, untimed,
and then B. Only the ingest of B is timed. After the measured run the script checks that the
overlapping trials merged: N + (N - overlapping) trials, and each overlapping one built by a
source record of each feed. It prints the times, records/s and the ratio loaded / empty with
the verdict, and exits 0 whatever the timings (nonzero only when a correctness check fails).

    python benchmarks/overlap_ingest.py [--records N] [--overlap 0.3] [--postgres [URL]]
"""

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.report import IngestReport
from benchmarks.exports import write_flat_trials_export
from benchmarks.scratch import add_postgres_option, scratch_database

TARGET = 2.0
# LUMC's words, cycled with periods other than set A's (six phases, always recruiting).
LUMC_PHASES = (
    "Phase 1",
    "Phase 1/2",
    "Phase 2",
    "Phase 2/3",
    "Phase 3",
    "Phase 4",
    "Early Phase 1",
)
LUMC_STATES = ("recruiting", "active", "completed", "planned", "suspended")
MODIFIED_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def overlaps(n: int, share: float) -> bool:
    """Whether B's trial n carries an A trial's NCT id: floor(N * share) of N, spread evenly."""
    return int((n + 1) * share) > int(n * share)


def overlap_count(count: int, share: float) -> int:
    return int(count * share)


def lumc_study(n: int, share: float) -> dict[str, Any]:
    """B's trial n: an A trial's NCT id (the one at the same position) or one A lacks."""
    nct = 10_000_000 + n if overlaps(n, share) else 20_000_000 + n
    return {
        "studyId": f"P{n // 1000 % 100:02d}.{n:06d}",
        "registrations": {"clinicaltrials.gov": f"NCT{nct}"},
        "title": f"LUMC generated study {n}",
        "shortName": f"LUMC-{n}",
        "phase": LUMC_PHASES[n % len(LUMC_PHASES)],
        "state": LUMC_STATES[n % len(LUMC_STATES)],
        "principalSponsor": "Leiden University Medical Center",
        "firstPatientIn": f"{n % 28 + 1:02d}-{n % 12 + 1:02d}-{2015 + n % 10}",
        "lastModified": (MODIFIED_FROM + dt.timedelta(seconds=n)).isoformat(),
    }


def write_lumc_export(directory: Path, count: int, share: float) -> Path:
    """LUMC's export.json with `count` studies, written one study at a time."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "export.json"
    with path.open("w", encoding="utf-8") as export:
        export.write('{\n  "source": "LUMC research administration",\n')
        export.write(f'  "exportedAt": "{MODIFIED_FROM.replace(year=2027).isoformat()}",\n')
        export.write('  "studies": [')
        for n in range(count):
            export.write(",\n    " if n else "\n    ")
            export.write(json.dumps(lumc_study(n, share), ensure_ascii=False))
        export.write('\n  ],\n  "products": [],\n  "projects": [],\n  "collaborations": []\n}\n')
    return path


def fresh_database(url: str) -> Engine:
    """A migrated database holding the collaboration's reference data and nothing else."""
    upgrade(url)
    engine = make_engine(url)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    return engine


def timed_ingest(engine: Engine, source: Path, count: int) -> float:
    """Seconds of ingesting set B through the LUMC feed; every study is read and stored."""
    started = time.perf_counter()
    report = ingest(engine, LumcFeed(), source)
    seconds = time.perf_counter() - started
    expect_all_created(report, count)
    return seconds


def expect_all_created(report: IngestReport, count: int) -> None:
    # A study that merges into an A trial is still a new source record: created, not updated.
    if (report.read, report.created, report.quarantined) != (count, count, 0):
        sys.exit(f"{report.summary()}: expected read {count}, created {count}, quarantined 0")


def trial_facts(engine: Engine) -> tuple[int, int, int, int]:
    """Trials, trial source records, trials built by records of both feeds, and trials whose
    feeds disagree on some field."""
    trial_sources = (
        select(m.EntitySource.entity_id, m.SourceRecord.feed)
        .join(m.SourceRecord)
        .where(m.EntitySource.entity_type == "clinical_trial")
        .subquery()
    )
    both = (
        select(trial_sources.c.entity_id)
        .where(trial_sources.c.feed.in_(["lund_skane", "lumc"]))
        .group_by(trial_sources.c.entity_id)
        .having(func.count(func.distinct(trial_sources.c.feed)) == 2)
    )
    with engine.connect() as connection:
        trials = connection.scalar(select(func.count()).select_from(m.ClinicalTrial))
        sources = connection.scalar(select(func.count()).select_from(trial_sources))
        merged = connection.scalar(select(func.count()).select_from(both.subquery()))
        conflicted = connection.scalar(
            select(func.count(func.distinct(m.FieldConflict.entity_id))).where(
                m.FieldConflict.entity_type == "clinical_trial"
            )
        )
    return trials or 0, sources or 0, merged or 0, conflicted or 0


def show_speed(label: str, seconds: float, count: int) -> None:
    print(f"{label:<40} {seconds:8.2f} s {count / seconds:10.0f} records/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="trials in each set")
    parser.add_argument(
        "--overlap", type=float, default=0.3, help="share of B that matches A (default 0.3)"
    )
    add_postgres_option(parser)
    args = parser.parse_args()
    count, share = args.records, args.overlap
    if count < 1 or not 0 <= share <= 1:
        parser.error("--records must be at least 1 and --overlap between 0 and 1")
    shared = overlap_count(count, share)
    print(f"{count} trials in each set, {shared} of B ({share:.0%}) with an NCT id of A")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        set_a = write_flat_trials_export(workdir / "lund_skane", count)
        set_b = write_lumc_export(workdir / "lumc", count, share)
        with scratch_database(args.postgres, workdir, "empty") as url:
            engine = fresh_database(url)
            empty_seconds = timed_ingest(engine, set_b, count)
            engine.dispose()
        show_speed("B (lumc) into an empty database", empty_seconds, count)
        with scratch_database(args.postgres, workdir, "loaded") as url:
            engine = fresh_database(url)
            started = time.perf_counter()
            report = ingest(engine, LundSkaneFeed(), set_a)
            a_seconds = time.perf_counter() - started
            expect_all_created(report, count)
            show_speed("set A (lund_skane), not compared", a_seconds, count)
            loaded_seconds = timed_ingest(engine, set_b, count)
            show_speed("B (lumc) into a database holding A", loaded_seconds, count)
            trials, sources, merged, conflicted = trial_facts(engine)
            engine.dispose()

    ratio = loaded_seconds / empty_seconds
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"{'ratio loaded / empty':<40} {ratio:8.2f} ({verdict} the target of at most {TARGET})")
    expected = {
        "clinical_trial rows": (trials, 2 * count - shared),
        "trial source records": (sources, 2 * count),
        "trials with lund_skane and lumc records": (merged, shared),
    }
    failed = False
    for label, (found, wanted) in expected.items():
        ok = found == wanted
        failed |= not ok
        print(f"{label:<40} {found:8d} (expected {wanted}): {'ok' if ok else 'WRONG'}")
    # B's phases and states cycle out of step with A's, so most merged trials disagree.
    ok = 0 < conflicted <= shared or shared == 0
    print(f"{'merged trials whose feeds disagree':<40} {conflicted:8d} (of {shared}): "
          f"{'ok' if ok else 'WRONG'}")  # fmt: skip
    if failed or not ok:
        sys.exit("the overlapping trials did not merge as expected")


if __name__ == "__main__":
    main()
