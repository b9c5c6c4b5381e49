"""A planned statement as the database driver takes it: its SQL text and parameters, made once.

SQLAlchemy builds and compiles the statement at planning time; a request then hands the text
straight to the driver (psycopg and aiosqlite both take `execute(sql, parameters)`), which
spares SQLAlchemy's per-execution work: the statement's cache key, its parameters' processing,
the result's row objects.  Parameters are processed here, as SQLAlchemy would (an enum to its
stored value), so the driver receives exactly what an ORM query would send.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    parameters: dict[str, Any] | tuple[Any, ...]
    counts: bool  # whether its row holds the total as a second column

    async def page(self, connection: Any) -> tuple[str, int | None]:
        """The statement's one row on a driver connection: the page's JSON, and the total."""
        cursor = await connection.execute(self.sql, self.parameters)
        try:
            row = await cursor.fetchone()
        finally:
            await _close(cursor)
        return row[0], (row[1] if self.counts else None)


def driver_statement(statement: Select[Any], dialect: Dialect, *, counts: bool) -> DriverStatement:
    # IN lists and other late-rendered parameters are rendered now: the text is final.
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    # What an execution would apply to each value (private to SQLAlchemy, stable since 1.4).
    processors: dict[str, Any] = dict(compiled._bind_processors)
    processed = {
        name: processors[name](value) if name in processors else value
        for name, value in values.items()
    }
    parameters: dict[str, Any] | tuple[Any, ...] = processed
    if compiled.positional:
        parameters = tuple(processed[name] for name in compiled.positiontup or ())
    return DriverStatement(str(compiled), parameters, counts)


async def _close(cursor: Any) -> None:
    closing = cursor.close()
    if hasattr(closing, "__await__"):
        await closing
