"""A planned statement as the database driver takes it: its SQL text and parameters, made once.

SQLAlchemy builds and compiles the statement at planning time; a request then hands the text
to the driver, which spares SQLAlchemy's per-execution work: the statement's cache key, its
compilation cache lookup, its parameters' processing.  Parameters are processed here, as
SQLAlchemy would (an enum to its stored value), so the driver receives exactly what an ORM
query would send.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    parameters: dict[str, Any] | tuple[Any, ...]
    counts: bool  # whether its row holds the total as a second column

    async def page(self, connection: AsyncConnection) -> tuple[str, int | None]:
        """The statement's one row: the page's JSON, and the total.  Sent as text through
        SQLAlchemy's driver-level call, which still tells the pool of a dead connection and
        the engine's listeners (a test's statement count) of each statement."""
        row: Any = (await connection.exec_driver_sql(self.sql, self.parameters)).one()
        return row[0], (row[1] if self.counts else None)


def driver_statement(statement: Select[Any], dialect: Dialect, *, counts: bool) -> DriverStatement:
    return driver_template(statement, dialect).statement({}, counts=counts)


@dataclass(frozen=True)
class DriverTemplate:
    """A statement compiled once whose named values change from one request to the next (a
    search's words): each request puts its own in, processed as the statement's were."""

    sql: str
    values: dict[str, Any]  # processed
    processors: dict[str, Any]
    positions: tuple[str, ...] | None  # the values' names in order, for a positional driver

    def statement(self, values: dict[str, Any], *, counts: bool) -> DriverStatement:
        processed = dict(self.values)
        for name, value in values.items():
            if name in processed:
                processor = self.processors.get(name)
                processed[name] = value if processor is None else processor(value)
        parameters: dict[str, Any] | tuple[Any, ...] = processed
        if self.positions is not None:
            parameters = tuple(processed[name] for name in self.positions)
        return DriverStatement(self.sql, parameters, counts)


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
