"""Engines for one database URL, sync for ingest and migrations, async for the API."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session

from atmp_graph.model.base import Base

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
        cursor.close()
        if own_transactions:
            # pysqlite's own BEGIN handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
            dbapi_connection.isolation_level = None

    if own_transactions:

        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL) -> Engine:
    engine = create_engine(sync_url(url))
    _configure_sqlite(engine, own_transactions=True)
    return engine


def make_async_engine(url: str | URL) -> AsyncEngine:
    engine = create_async_engine(async_url(url))
    _configure_sqlite(engine.sync_engine, own_transactions=False)
    return engine


def alembic_config(url: str | URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic reads this through ConfigParser, which treats % as interpolation.
    rendered = sync_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` with the Alembic migrations."""
    command.upgrade(alembic_config(url), revision)


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

    def refresh(self) -> None:
        if self.postgres:
            tables = ", ".join(f'"{name}"' for name in Base.metadata.tables)
            self.session.execute(text(f"ANALYZE {tables}"))

    def after_batch(self) -> None:
        self.batches += 1
        if self.batches == self.next_refresh:
            self.next_refresh *= 4
            self.refresh()
