"""What the search index costs an ingest, and what a search costs against a substring filter.

Ingests N generated trials (Lund/Skåne CSV shape) through the whole pipeline into a database
with the search index and, as the baseline in the same run, into one whose index was dropped
(model/search_index.py `uninstall`): the ratio is what the triggers cost.  Then, on the indexed
database, times `search(query:)` pages (20 hits with counts and highlights, as the API runs
them: model/search_query.py) against the list filter's case-insensitive substring match on
titles (`trials(filter: {search:})`), for the same word.

    python benchmarks/search_index.py [--records N] [--queries Q] [--postgres [URL]]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.model import search_index, search_query
from atmp_graph.model.database import make_async_engine, make_engine, upgrade
from atmp_graph.model.search_documents import KINDS
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.exports import write_flat_trials_export as write_export
from benchmarks.scratch import add_postgres_option, scratch_database

# In every title: the worst case, every document scored to find the best 20.
WORD = "benchmark"


def ingest_seconds(url: str, export: Path, count: int, *, indexed: bool) -> float:
    upgrade(url)
    engine = make_engine(url)
    if not indexed:
        with engine.begin() as connection:
            search_index.uninstall(connection)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    started = time.perf_counter()
    report = ingest(engine, LundSkaneFeed(), export)
    seconds = time.perf_counter() - started
    assert (report.read, report.created, report.quarantined) == (count, count, 0), report.summary()
    engine.dispose()
    return seconds


async def query_seconds(url: str, queries: int, word: str) -> tuple[float, float, int]:
    """(seconds per search page, seconds per substring filter page, hits) for `word`."""
    engine = make_async_engine(url)
    sessions = async_sessionmaker(engine)
    words = search_query.words(word)
    kinds = [kind.entity_type for kind in KINDS]

    async def search() -> int:
        async with sessions() as session:
            counted = await search_query.counts(session, words)
            await search_query.page(session, words, entity_types=kinds, after=None, size=20)
        return sum(counted.values())

    async def substring() -> int:
        matches = func.lower(m.ClinicalTrial.title).contains(word, autoescape=True)
        async with sessions() as session:
            total = await session.scalar(select(func.count()).where(matches)) or 0
            await session.scalars(
                select(m.ClinicalTrial).where(matches).order_by(m.ClinicalTrial.id).limit(20)
            )
        return total

    async def per_query(run: Callable[[], Awaitable[int]]) -> float:
        await run()  # the caches and the connection warm
        started = time.perf_counter()
        for _ in range(queries):
            await run()
        return (time.perf_counter() - started) / queries

    searched, filtered = await per_query(search), await per_query(substring)
    hits = await search()
    await engine.dispose()
    return searched, filtered, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50)
    add_postgres_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        export = write_export(workdir / "export", args.records)
        with scratch_database(args.postgres, workdir, "bare") as bare_url:
            bare = ingest_seconds(bare_url, export, args.records, indexed=False)
        with scratch_database(args.postgres, workdir, "indexed") as url:
            indexed = ingest_seconds(url, export, args.records, indexed=True)
            # A word in every title, and one trial's number (in its title alone).
            measured = [
                (word, *asyncio.run(query_seconds(url, args.queries, word)))
                for word in (WORD, str(args.records // 2 + 7))
            ]
    print(f"ingest without the search index  {args.records / bare:9.0f} records/s")
    print(f"ingest with the search index     {args.records / indexed:9.0f} records/s")
    print(f"ratio with / without the index   {bare / indexed:9.2f}")
    for word, searched, filtered, hits in measured:
        print(
            f"{word!r} ({hits:,} hits): substring filter {filtered * 1000:.1f} ms, search "
            f"{searched * 1000:.1f} ms a page of 20"
        )
        print(f"ratio search / substring         {searched / filtered:9.2f}")


if __name__ == "__main__":
    main()
