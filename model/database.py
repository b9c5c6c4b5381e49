"""Engines for one database URL, sync for ingest and migrations, async for the API."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session

from atmp_graph.model import search_index
from atmp_graph.model.base import Base
from atmp_graph.model.bounded_connection import BoundedConnection, bounded_connector
from atmp_graph.model.fair_pool import FairAsyncQueuePool

MIGRATIONS = Path(__file__).with_name("migrations")

_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


class UnsupportedDatabase(ValueError):
    """The URL names a database other than SQLite or PostgreSQL."""


def _with_driver(url: str | URL, drivers: dict[str, str]) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise UnsupportedDatabase(
            f"database URL {parsed.render_as_string(hide_password=True)!r} is not SQLite or "
            "PostgreSQL"
        )
    return parsed.set(drivername=drivers[backend])


def sync_url(url: str | URL) -> URL:
    return _with_driver(url, _SYNC_DRIVERS)


def async_url(url: str | URL) -> URL:
    return _with_driver(url, _ASYNC_DRIVERS)


def _configure_sqlite(engine: Engine, *, own_transactions: bool) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless each connection asks.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Write-ahead logging: readers (the API) never wait for a writer (an ingest in the
        # server's own thread, or a worker) to commit, and the writer never waits for them.
        # Under the default rollback journal a long commit kept even key lookups waiting past
        # the busy timeout.  It is a property of the file, kept once set.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        if own_transactions:
            # pysqlite's own BEGIN handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
            dbapi_connection.isolation_level = None

    if own_transactions:

        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN")


@dataclass(frozen=True, kw_only=True)
class DatabaseLimits:
    """How long the service waits for its database, and how many connections it keeps.

    The defaults suit a command line run (an ingest may run long statements); the API passes
    the ATMP_DB_* settings, which add a statement timeout.
    """

    connect_timeout_seconds: int = 5
    # None: no limit.  PostgreSQL ends a statement that runs longer (the connection's
    # statement_timeout, set at connect, so no per-request SET or transaction is needed).
    statement_timeout_ms: int | None = None
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout_seconds: float = 30
    sqlite_busy_timeout_ms: int = 5000

    @property
    def answer_seconds(self) -> float | None:
        """How long an async connection waits for any answer before it calls the server gone:
        the statement timeout, plus a margin for the server's own cancellation to arrive."""
        if self.statement_timeout_ms is None:
            return None
        return self.statement_timeout_ms / 1000 + ANSWER_MARGIN_SECONDS


# A working server answers within this of its own statement timeout; one that has not is frozen.
ANSWER_MARGIN_SECONDS = 2.0


def _postgres_parameters(url: URL, limits: DatabaseLimits) -> dict[str, Any]:
    """libpq keywords to add to the URL's own: timeouts, and `options` merged, not replaced."""
    parameters: dict[str, Any] = {"connect_timeout": limits.connect_timeout_seconds}
    if limits.statement_timeout_ms is not None:
        options = url.query.get("options", "")
        if not isinstance(options, str):
            options = " ".join(options)
        timeout = f"-c statement_timeout={limits.statement_timeout_ms}"
        parameters["options"] = f"{options} {timeout}".strip()
    return parameters


def _engine_options(url: URL, limits: DatabaseLimits) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        # Waiting this long for another writer's lock before "database is locked".
        return {"connect_args": {"timeout": limits.sqlite_busy_timeout_ms / 1000}}
    return {
        # A connection the server dropped (a restart) is found and replaced at checkout, so
        # the first request after a restart does not fail.
        "pool_pre_ping": True,
        "pool_size": limits.pool_size,
        "max_overflow": limits.max_overflow,
        "pool_timeout": limits.pool_timeout_seconds,
    }


def make_engine(url: str | URL, *, limits: DatabaseLimits | None = None) -> Engine:
    limits = limits or DatabaseLimits()
    parsed = sync_url(url)
    options = _engine_options(parsed, limits)
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = _postgres_parameters(parsed, limits)
    engine = create_engine(parsed, **options)
    _configure_sqlite(engine, own_transactions=True)
    return engine


def make_async_engine(
    url: str | URL, *, limits: DatabaseLimits | None = None, reads_only: bool = False
) -> AsyncEngine:
    """The API's engine; with `reads_only`, one for single statements that read: outside any
    transaction (no BEGIN, no ROLLBACK when a connection goes back) and without the pre-ping,
    which costs a round trip per use.  Its caller must answer another way when a pooled
    connection turns out dead (the read planner leaves the query to the resolvers, whose
    engine pings); the pool then replaces every connection it holds."""
    limits = limits or DatabaseLimits()
    parsed = async_url(url)
    options = _engine_options(parsed, limits)
    if reads_only:
        options |= {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
        options.pop("pool_pre_ping", None)
    if parsed.get_backend_name() == "postgresql":
        options["poolclass"] = FairAsyncQueuePool
        keywords = parsed.translate_connect_args(username="user", database="dbname")
        keywords |= dict(parsed.query) | _postgres_parameters(parsed, limits)
        options["async_creator"] = bounded_connector(
            make_conninfo(**keywords), answer_seconds=limits.answer_seconds
        )
    engine = create_async_engine(parsed, **options)
    _configure_sqlite(engine.sync_engine, own_transactions=False)
    if parsed.get_backend_name() == "postgresql" and not reads_only:
        _ping_within_connect_timeout(engine.sync_engine, limits)
    return engine


def _ping_within_connect_timeout(engine: Engine, limits: DatabaseLimits) -> None:
    """A pooled connection's next use is the pre-ping, a round trip as cheap as connecting: it
    gets the connect timeout, not the statement timeout's, so a frozen server costs a request
    about two connect timeouts (the ping, then the pool's one fresh attempt)."""

    def bound(record: Any, seconds: float | None) -> None:
        connection = record.driver_connection
        if isinstance(connection, BoundedConnection):
            connection.answer_seconds = seconds

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        bound(record, float(limits.connect_timeout_seconds))

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        bound(record, limits.answer_seconds)


def alembic_config(url: str | URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic reads this through ConfigParser, which treats % as interpolation.
    rendered = sync_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class MigrationRevisions:
    heads: frozenset[str]  # where a current database is
    known: frozenset[str]  # every revision this code has


def migration_revisions() -> MigrationRevisions:
    """The revisions of the migrations this code has (read from their files: once, please)."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    return MigrationRevisions(
        heads=frozenset(scripts.get_heads()),
        known=frozenset(script.revision for script in scripts.walk_revisions()),
    )


APPLIED_REVISIONS = text("SELECT version_num FROM alembic_version")


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` with the Alembic migrations, and the search
    index up to what the database allows (model/search_index.py `ensure`)."""
    command.upgrade(alembic_config(url), revision)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            search_index.ensure(connection)
    finally:
        engine.dispose()


class PlannerStatistics:
    """Keeps PostgreSQL's planner told how big the tables are while an ingest grows them.

    A bulk load outruns autovacuum: with statistics from when a table was small, PostgreSQL
    looks up a batch of 1,000 ids by scanning every row of their kind, so each batch costs more
    than the last.  `ANALYZE` at the start and after batches 1, 4, 16, 64, … keeps every lookup
    on its index for a handful of ANALYZEs per run.  SQLite's planner needs none of this.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.batches, self.next_refresh = 0, 1
        self.postgres = session.get_bind().dialect.name == "postgresql"
        # The search index grows with the nodes, and its GIN index is only chosen once the
        # planner knows (model/search_index.py; absent before its migration).
        self.tables = list(Base.metadata.tables)
        if self.postgres and search_index.present(session.connection()):
            self.tables.append(search_index.TABLE)

    def refresh(self) -> None:
        if self.postgres:
            tables = ", ".join(f'"{name}"' for name in self.tables)
            self.session.execute(text(f"ANALYZE {tables}"))

    def after_batch(self) -> None:
        self.batches += 1
        if self.batches == self.next_refresh:
            self.next_refresh *= 4
            self.refresh()
