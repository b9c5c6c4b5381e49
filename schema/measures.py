"""Fields of a stats type answered by one row of aggregates (a count, an enrollment's range).

A `Measures` is the field's definition as data: the aggregates over the rows the stats type
counts, and what the field answers from their row.  The resolver runs it as one statement
(model/aggregates.py `measures_statement`); the read planner reads the same definition from
the field's metadata and puts the same aggregates into its one statement per root field.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import ColumnElement

from atmp_graph.model import Base
from atmp_graph.model.aggregates import measures_statement
from atmp_graph.schema.context import Info

# A field's metadata: its Measures (what the read planner compiles).
MEASURES = "atmp_graph.measures"


@dataclass(frozen=True)
class Measures:
    """Aggregates over the `model` rows a stats type counts, by name, and `value`: what the
    field answers from their one row (read by those names)."""

    model: type[Base]
    columns: Mapping[str, ColumnElement[Any]]
    value: Callable[[Any], Any]


def measure_field(measures: Measures, returns: Any, *, description: str) -> Any:
    """A field of a stats type (which holds the list's WHERE as `where`) that answers
    `measures`, as `returns`."""

    async def resolve(root: Any, info: Info) -> Any:
        statement = measures_statement(measures.model, measures.columns, where=root.where)
        async with info.context.sessions() as session:
            row = (await session.execute(statement)).one()
        return measures.value(row)

    # Strawberry reads the return type from the annotations, so give it the real one.
    resolve.__annotations__ = {"root": Any, "info": Info, "return": returns}
    return strawberry.field(
        resolver=resolve, description=description, metadata={MEASURES: measures}
    )
