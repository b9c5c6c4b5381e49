"""A planned statement as the database driver takes it: its SQL text and parameters, made once.

SQLAlchemy builds and compiles the statement at planning time; a request then hands the text
to the driver itself, which spares SQLAlchemy's per-execution work: the statement's cache key,
its compilation cache lookup, its parameters' processing, its result objects, the greenlet its
async layer runs each call in (about 80 µs a statement, measured: more than the rest of a
small request's planned answer).  Parameters are processed here, as SQLAlchemy would (an enum
to its stored value), so the driver receives exactly what an ORM query would send.  What
SQLAlchemy's execution also did is done here: the engine's cursor listeners hear of each
statement (a test's statement count), and a connection the driver found dead is invalidated,
so the pool never hands it out again.
"""

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Dialect, Select
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    parameters: dict[str, Any] | tuple[Any, ...]
    counts: bool  # whether its rows hold the total (last)
    # Compact rows (schema/planner/rows_sql.py), a row per node: where a row holds its id
    # (the last sort key).  None: one row of JSON.
    id_at: int | None = None

    async def page(self, connection: AsyncConnection, driver: Any) -> tuple[Any, int | None]:
        """What the statement read (the JSON parsed, or the page's rows), and the total, sent on
        `driver`, the DB-API connection (psycopg's or aiosqlite's) `connection` holds."""
        rows: Any = await _execute(connection, driver, self.sql, self.parameters)
        if self.id_at is None:
            row = rows[0]
            return (None if row[0] is None else orjson.loads(row[0])), (
                row[1] if self.counts else None
            )
        if not self.counts:
            return rows, None
        total = rows[0][-1]
        # An empty page is one row of nulls (its id among them) holding the total.
        return ([] if rows[0][self.id_at] is None else rows), total


async def _execute(connection: AsyncConnection, driver: Any, sql: str, parameters: Any) -> Any:
    events = connection.sync_connection.dispatch  # type: ignore[union-attr]
    # Listeners get no execution context: SQLAlchemy made none.
    events.before_cursor_execute(connection.sync_connection, None, sql, parameters, None, False)
    try:
        cursor = await driver.execute(sql, parameters)
        rows = await cursor.fetchall()
        await cursor.close()
    except Exception:
        if getattr(driver, "closed", False) or getattr(driver, "broken", False):
            await connection.invalidate()
        raise
    events.after_cursor_execute(connection.sync_connection, None, sql, parameters, None, False)
    return rows


def driver_statement(
    statement: Select[Any], dialect: Dialect, *, counts: bool, id_at: int | None = None
) -> DriverStatement:
    return driver_template(statement, dialect).statement({}, counts=counts, id_at=id_at)


@dataclass(frozen=True)
class DriverTemplate:
    """A statement compiled once whose named values change from one request to the next (a
    search's words): each request puts its own in, processed as the statement's were."""

    sql: str
    values: dict[str, Any]  # processed
    processors: dict[str, Any]
    positions: tuple[str, ...] | None  # the values' names in order, for a positional driver

    def statement(
        self, values: dict[str, Any], *, counts: bool, id_at: int | None = None
    ) -> DriverStatement:
        processed = dict(self.values)
        for name, value in values.items():
            if name in processed:
                processor = self.processors.get(name)
                processed[name] = value if processor is None else processor(value)
        parameters: dict[str, Any] | tuple[Any, ...] = processed
        if self.positions is not None:
            parameters = tuple(processed[name] for name in self.positions)
        return DriverStatement(self.sql, parameters, counts, id_at)


def driver_template(statement: Select[Any], dialect: Dialect) -> DriverTemplate:
    compiled = statement.compile(dialect=dialect)
    # IN lists are rendered one parameter per value now, each with the processor of its list:
    # the step SQLAlchemy's own execution takes (private to it, stable since 1.4).
    expanded = compiled._process_parameters_for_postcompile(compiled.construct_params())
    # The single values' processors, and those of each value of an expanded list.
    processors: dict[str, Any] = {**compiled._bind_processors, **expanded.processors}
    processed = {
        name: processors[name](value) if name in processors else value
        for name, value in expanded.parameters.items()
    }
    positions = tuple(expanded.positiontup or ()) if compiled.positional else None
    return DriverTemplate(expanded.statement, processed, processors, positions)
