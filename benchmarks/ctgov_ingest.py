"""How fast registry-shaped records go in, against the same facts in the Lund/Skåne CSV shape.

Generates N ClinicalTrials.gov studies (API v2 page files of 100 studies; each study one
biological, two conditions, `--locations` sites and a lead sponsor out of fifty) and the same
N trials in the Lund/Skåne CSV shape (products.csv and trials.csv, with the same product,
sponsor, conditions and sites). Each is ingested into its own fresh database holding the
collaboration's reference data; only the feed's ingest is timed. Both feeds read 2 N records
(N products, N trials), so records/s compare per record. The target: the ctgov path costs at
most twice the CSV path per record. The script checks that both built the same graph (N
trials, N products, N × locations sites) and exits 0 whatever the timings.

    python benchmarks/ctgov_ingest.py [--records N] [--locations 5] [--postgres [URL]]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.feeds import FeedAdapter
from benchmarks.exports import write_csv_twin_of_ctgov, write_ctgov_pages
from benchmarks.scratch import add_postgres_option, scratch_database

TARGET = 2.0


def timed_ingest(url: str, adapter: FeedAdapter, export: Path) -> tuple[float, int, list[int]]:
    """Seconds of ingesting `export`, the records read, and the trials, products and sites."""
    upgrade(url)
    engine = make_engine(url)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    started = time.perf_counter()
    report = ingest(engine, adapter, export)
    seconds = time.perf_counter() - started
    assert report.quarantined == 0, report.summary()
    with engine.connect() as connection:
        counts = [
            connection.scalar(select(func.count()).select_from(model)) or 0
            for model in (m.ClinicalTrial, m.Product, m.TrialSite)
        ]
    engine.dispose()
    return seconds, report.read, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="studies (N)")
    parser.add_argument("--locations", type=int, default=5, help="sites per study")
    add_postgres_option(parser)
    args = parser.parse_args()
    count, locations = args.records, args.locations
    expected = [count, count, count * locations]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        exports: dict[str, tuple[FeedAdapter, Path]] = {
            "Lund/Skåne CSV": (
                LundSkaneFeed(),
                write_csv_twin_of_ctgov(workdir / "csv", count, locations=locations),
            ),
            "ClinicalTrials.gov pages": (
                CtGovFeed(),
                write_ctgov_pages(workdir / "ctgov", count, locations=locations),
            ),
        }
        for name, (adapter, export) in exports.items():
            with scratch_database(args.postgres, workdir, adapter.name) as url:
                results[name] = timed_ingest(url, adapter, export)
    for name, (seconds, read, _counts) in results.items():
        print(f"{name:<28} {read:8d} records {seconds:8.2f} s {read / seconds:8.0f} records/s")
    (csv_seconds, csv_read, _), (ct_seconds, ct_read, _) = results.values()
    ratio = (ct_seconds / ct_read) / (csv_seconds / csv_read)
    verdict = "within" if ratio <= TARGET else "over"
    print(f"{'ratio ctgov / CSV per record':<28} {ratio:8.2f} ({verdict} the {TARGET:.0f}x target)")
    for name, (_, _, counts) in results.items():
        check = "ok" if counts == expected else "WRONG"
        print(f"{name:<28} trials, products, sites {counts} (expected {expected}): {check}")
        if counts != expected:
            sys.exit(1)


if __name__ == "__main__":
    main()
