"""Numbers through the database's JSON without loss, read back as the resolvers read them.

An integer goes as a JSON number.  Another number would not come back whole: PostgreSQL writes
a numeric in full but JSON parsers read it as a double, and SQLite's JSON writes a double with
15 digits only.  So it goes as text (PostgreSQL's numeric as it prints it, SQLite's double with
the 17 digits that give it back), and is read as the driver would have returned it, then as
SQLAlchemy processes the column's type for the resolvers (SQLite's doubles made Decimals).
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Float, Integer, Numeric, Text, case, cast, func
from sqlalchemy.types import NullType, TypeEngine

Read = Callable[[Any], Any]


def _whole(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, Integer)


def exact(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """`value` as the statement's JSON can carry it without loss."""
    if _whole(value.type):
        return value
    if dialect == "postgresql":
        return cast(value, Text)
    # An integer stays one (the driver would give an int); a double goes as text.
    return case((func.typeof(value) == "real", func.printf("%!.17g", value)), else_=value)


def reader(type_: TypeEngine[Any], dialect: Dialect) -> Read | None:
    """What turns a value `exact` made back into what the resolvers get for it (None: it is
    that already)."""
    if _whole(type_):
        return None
    if dialect.name == "postgresql":
        # psycopg gives a numeric as a Decimal, a double as a float; a Numeric that asks for
        # floats, or a Float, is one.
        wants_float = isinstance(type_, Float) or (
            isinstance(type_, Numeric) and not type_.asdecimal
        )
        parse: Read = float if wants_float else Decimal
        return lambda value: None if value is None else parse(value)
    impl = type_.dialect_impl(dialect)
    processor = None if isinstance(impl, NullType) else impl.result_processor(dialect, None)

    def read(value: Any) -> Any:
        if isinstance(value, str):
            value = float(value)
        return value if processor is None or value is None else processor(value)

    return read
