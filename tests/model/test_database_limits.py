"""The engines carry their limits on every connection: the server applies the statement
timeout, SQLite waits its busy timeout, and a server that stops answering is given up on."""

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from atmp_graph.model.database import DatabaseLimits, make_async_engine, make_engine
from atmp_graph.schema.db_errors import TOO_SLOW, UNAVAILABLE, database_error
from tests.own_postgres import OwnPostgres


def _ask(engine: sa.Engine | AsyncEngine, *statements: str) -> list[str]:
    """What the engine's connection answers to each of `statements`; the engine is disposed."""
    if isinstance(engine, sa.Engine):
        with engine.connect() as connection:
            answers = [str(connection.scalar(sa.text(statement))) for statement in statements]
        engine.dispose()
        return answers

    async def ask() -> list[str]:
        async with engine.connect() as connection:
            answers = [str(await connection.scalar(sa.text(sql))) for sql in statements]
        await engine.dispose()
        return answers

    return asyncio.run(ask())


@pytest.mark.parametrize("make", [make_engine, make_async_engine])
def test_postgres_connections_carry_the_statement_timeout_and_keep_the_urls_options(
    postgres_database_url: str, make: type
) -> None:
    url = f"{postgres_database_url}?options=-csearch_path%3Dkept"
    engine = make(url, limits=DatabaseLimits(statement_timeout_ms=1500))

    assert _ask(engine, "SHOW statement_timeout", "SHOW search_path") == ["1500ms", "kept"]


def test_command_line_engines_have_no_statement_timeout(postgres_database_url: str) -> None:
    # An ingest may run long statements; only the API's settings add a limit.
    assert _ask(make_engine(postgres_database_url), "SHOW statement_timeout") == ["0"]


@pytest.mark.parametrize(("limits", "expected"), [(None, "5000"), (250, "250")])
@pytest.mark.parametrize("make", [make_engine, make_async_engine])
def test_sqlite_waits_its_busy_timeout_for_another_writer(
    tmp_path: Path, make: type, limits: int | None, expected: str
) -> None:
    given = DatabaseLimits(sqlite_busy_timeout_ms=limits) if limits is not None else None
    engine = make(f"sqlite:///{tmp_path / 'busy.db'}", limits=given)

    assert _ask(engine, "PRAGMA busy_timeout") == [expected]


def test_a_statement_longer_than_the_timeout_is_ended_and_reads_as_too_slow(
    postgres_database_url: str,
) -> None:
    engine = make_async_engine(
        postgres_database_url, limits=DatabaseLimits(statement_timeout_ms=200)
    )

    async def sleep() -> BaseException:
        async with engine.connect() as connection:
            with pytest.raises(sa.exc.OperationalError) as caught:
                await connection.execute(sa.text("SELECT pg_sleep(5)"))
        await engine.dispose()
        return caught.value

    assert database_error(asyncio.run(sleep())) == (TOO_SLOW, "DATABASE_TIMEOUT")


def test_a_connection_in_use_gives_up_on_a_frozen_server(own_postgres_db: OwnPostgres) -> None:
    # The statement timeout cannot fire in a stopped server: the connection's own bound does.
    limits = DatabaseLimits(connect_timeout_seconds=2, statement_timeout_ms=500)
    engine = make_async_engine(own_postgres_db.url, limits=limits)

    async def query_across_a_freeze() -> BaseException:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
            own_postgres_db.freeze()
            with pytest.raises(sa.exc.OperationalError) as caught:
                await connection.execute(sa.text("SELECT 1"))
        own_postgres_db.thaw()
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT 2")) == 2
        await engine.dispose()
        return caught.value

    error = asyncio.run(query_across_a_freeze())

    assert (database_error(error), str(error.orig)) == (
        (UNAVAILABLE, "DATABASE_UNAVAILABLE"),
        "the server did not answer within 2.5 s",
    )
