"""A planned statement as the database driver takes it: its SQL text and parameters, made once.

SQLAlchemy builds and compiles the statement at planning time; a request then hands the text
to the driver, which spares SQLAlchemy's per-execution work: the statement's cache key, its
compilation cache lookup, its parameters' processing.  Parameters are processed here, as
SQLAlchemy would (an enum to its stored value), so the driver receives exactly what an ORM
query would send.
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

    async def page(self, connection: AsyncConnection) -> tuple[Any, int | None]:
        """What the statement read (the JSON parsed, or the page's rows), and the total.  Sent
        as text through SQLAlchemy's driver-level call, which still tells the pool of a dead
        connection and the engine's listeners (a test's statement count) of each statement."""
        result = await connection.exec_driver_sql(self.sql, self.parameters)
        if self.id_at is None:
            row: Any = result.one()
            return (None if row[0] is None else orjson.loads(row[0])), (
                row[1] if self.counts else None
            )
        rows: Any = result.all()
        if not self.counts:
            return rows, None
        total = rows[0][-1]
        # An empty page is one row of nulls (its id among them) holding the total.
        return ([] if rows[0][self.id_at] is None else rows), total


def driver_statement(
    statement: Select[Any], dialect: Dialect, *, counts: bool, id_at: int | None = None
) -> DriverStatement:
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
    parameters: dict[str, Any] | tuple[Any, ...] = processed
    if compiled.positional:
        parameters = tuple(processed[name] for name in expanded.positiontup or ())
    return DriverStatement(expanded.statement, parameters, counts, id_at)
