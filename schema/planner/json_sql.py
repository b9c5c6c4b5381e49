"""JSON built by the database, the one place where SQLite and PostgreSQL spell it differently.

A compiled read asks the database for compact arrays (a node is the array of its fields, a list
an array of such arrays), which the assembler turns into the answer in one pass.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, literal_column
from sqlalchemy.sql.functions import Function


@dataclass(frozen=True)
class JsonDialect:
    """How one database builds, nests and aggregates JSON arrays."""

    name: str

    def array(self, *items: ColumnElement[Any]) -> Function[Any]:
        if self.name == "postgresql":
            return func.json_build_array(*items)
        return func.json_array(*items)

    def nested(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A subquery's JSON as JSON inside an array (SQLite would embed it as a string)."""
        return value if self.name == "postgresql" else func.json(value)

    def aggregate(self, item: ColumnElement[Any]) -> ColumnElement[Any]:
        """The array of `item` over the rows, `[]` when there are none; the rows' order is the
        order of the subquery they come from."""
        if self.name == "postgresql":
            return func.coalesce(func.json_agg(item), literal_column("'[]'::json"))
        return func.json_group_array(item)

    def as_text(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """The JSON as text, so the driver hands it over unparsed (orjson parses it faster)."""
        if self.name == "postgresql":
            return cast(value, Text)
        return value


def json_dialect(name: str) -> JsonDialect:
    return JsonDialect("postgresql" if name == "postgresql" else "sqlite")
