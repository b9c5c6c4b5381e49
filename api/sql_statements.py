"""Counts each SQL statement a request sends, on every engine the app has.

`before_cursor_execute` is heard for SQLAlchemy's own executions and for the read planner's
statements, which go to the driver directly and fire the event themselves
(schema/planner/driver_sql.py).  The count goes to the request's record
(api/observed_request.py); a statement outside any request (start-up, a probe's ping in a test)
counts nowhere.
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from atmp_graph.api.observed_request import current_request

__all__ = ["count_statements"]


def _count(*_: Any) -> None:
    record = current_request()
    if record is not None:
        record.statements += 1


def count_statements(*engines: AsyncEngine | None) -> None:
    """Count the statements of `engines` (each once, however often it is named)."""
    for engine in {id(e): e for e in engines if e is not None}.values():
        target = engine.sync_engine
        if not event.contains(target, "before_cursor_execute", _count):
            event.listen(target, "before_cursor_execute", _count)
