"""Cursor values: what each cursor type accepts, how two values compare, and the one text
form (canonical) in which the host keeps a stream's state and hands it to its adapter.

A cursor orders a stream's records in time, so the host compares them as what they are: a
date with a date, a timestamp with a timestamp (whatever their offsets), a number with a
number.  Text compares as text, as every cursor did in contract 1.0.
"""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast, get_args

CursorType = Literal["date", "datetime", "number", "text"]
CURSOR_TYPES: tuple[CursorType, ...] = get_args(CursorType)
CursorValue = dt.date | dt.datetime | Decimal | str

# What a value of each type looks like, for the reason a record is quarantined with.
DESCRIPTIONS: dict[CursorType, str] = {
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a timestamp with an offset (ISO 8601)",
    "number": "a number",
    "text": "text",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class CursorError(ValueError):
    """A cursor value that is not of its stream's cursor type."""


def _date(text: str) -> dt.date:
    if _DATE.fullmatch(text):
        return dt.date.fromisoformat(text)
    raise ValueError(text)


def _datetime(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        # Without its offset a moment is not known: it cannot be compared with others.
        raise ValueError(text)
    return moment


def _number(text: str) -> Decimal:
    if _NUMBER.fullmatch(text):
        return Decimal(text)
    raise ValueError(text)


_PARSERS: dict[CursorType, Callable[[str], CursorValue]] = {
    "date": _date,
    "datetime": _datetime,
    "number": _number,
    "text": str,
}


def parse_cursor(cursor_type: CursorType, value: str) -> CursorValue:
    """`value` (a cursor as text) as a value of `cursor_type`; CursorError names what it is not."""
    text = value if cursor_type == "text" else value.strip()
    try:
        return _PARSERS[cursor_type](text)
    except (ValueError, InvalidOperation):
        raise CursorError(f"{value!r} is not {DESCRIPTIONS[cursor_type]}") from None


def canonical(value: CursorValue) -> str:
    """The one text form of a cursor value: ISO dates, timestamps in UTC, plain decimals.

    Dates and timestamps in this form also sort as text in time order.
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def is_after(value: CursorValue, than: CursorValue) -> bool:
    """Whether `value` comes after `than` (two values of one cursor type)."""
    return bool(cast(Any, value) > than)
