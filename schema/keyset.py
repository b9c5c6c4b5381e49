"""Keyset paging: the ORDER BY of a list's sort keys, the condition "after this row", and the
cursors that carry a row's key values.

Every list is ordered by its sort keys and then by id, so no two rows tie and the order is the
same on every request.  NULL sorts above every value, on both databases: an ascending key puts
NULLs last, a descending one first (PostgreSQL's own default, so one B-tree index serves both
directions).  A cursor holds its row's key values, the id last, and a fingerprint of the list,
order and filter it was made for; the page after it starts right after that position, so rows
inserted or deleted meanwhile neither repeat nor skip a row.  The cursor is not a secret (it
holds values its row showed) but it is checked: what this API did not write, or wrote for
another order or filter, is refused with a sentence, never sent to the database.

These are plain functions of SQLAlchemy expressions, over a model class or an alias of it.
"""

import base64
import binascii
import datetime as dt
import enum
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, tuple_

from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filters import shortened

# A cursor holds at most a few sort values of one row (a title is at most 2,000 characters).
MAX_CURSOR_LENGTH = 12_000
MAX_TEXT_VALUE = 5_000
# INTEGER columns and counts: PostgreSQL's hold 32 bits.
_SMALLEST, _LARGEST = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Key:
    """One sort key of a list: an expression over its rows, and how it sorts."""

    # How the order input names it (TITLE, ID), for the fingerprint and error messages.
    name: str
    expression: ColumnElement[Any]
    descending: bool = False
    nullable: bool = False
    # What its values are (str, int, float, bool, dt.date, dt.datetime), to read a cursor.
    kind: type = int


def order_clauses(keys: Sequence[Key]) -> list[ColumnElement[Any]]:
    """ORDER BY the keys, NULLs placed explicitly (SQLite would put them first)."""
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        clause = key.expression.desc() if key.descending else key.expression.asc()
        if key.nullable:
            clause = clause.nulls_first() if key.descending else clause.nulls_last()
        clauses.append(clause)
    return clauses


def after_condition(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """The rows that come after the row whose key values are `values`, in the keys' order.

    Keys of one direction compare as one row value, which an index on them serves; NULLs
    (which a row value cannot compare) and mixed directions expand into ORs of ANDs."""
    if len({key.descending for key in keys}) == 1 and None not in values:
        return _row_value_after(keys, values)
    beyond: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        step = _step_after(key, value)
        if step is not None:
            beyond.append(and_(*equal, step))
        equal.append(_equal(key, value))
    return or_(*beyond) if beyond else false()


def _bound(key: Key, value: Any) -> Any:
    # Typed, so a date is written as the column stores it (SQLite keeps text).
    return bindparam(None, value, type_=key.expression.type)


def _equal(key: Key, value: Any) -> ColumnElement[bool]:
    return key.expression.is_(None) if value is None else key.expression == _bound(key, value)


def _step_after(key: Key, value: Any) -> ColumnElement[bool] | None:
    """The rows after `value` on this key alone (None: there are none)."""
    if key.descending:
        # NULLs come first: after a NULL come all the values, after a value the smaller ones.
        return key.expression.is_not(None) if value is None else key.expression < _bound(key, value)
    if value is None:
        return None  # NULLs come last: nothing is after one
    after = key.expression > _bound(key, value)
    return or_(after, key.expression.is_(None)) if key.nullable else after


def _row_value_after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    row = tuple_(*(key.expression for key in keys))
    given = tuple_(*(_bound(key, value) for key, value in zip(keys, values, strict=True)))
    if keys[0].descending:
        return row < given  # NULLs come first, before every value: none is after
    # Ascending, the NULLs come last, and a row value with a NULL compares to nothing.
    nulls = [
        and_(
            *(_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)),
            key.expression.is_(None),
        )
        for i, key in enumerate(keys)
        if key.nullable
    ]
    return or_(row > given, *nulls) if nulls else row > given


def plain(value: Any) -> Any:
    """`value` (an input object, a list, an enum, a date, a global id) as JSON-ready data with
    its unset fields left out: the same input gives the same data, whatever its spelling."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a global id, say


def fingerprint(*parts: Any) -> str:
    """A short digest of what a list's cursors belong to: the list, its order, its filter."""
    text = json.dumps(plain(list(parts)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checksum(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def encode_cursor(values: Sequence[Any], list_fingerprint: str) -> str:
    """The cursor of the row whose key values are `values` (the id last)."""
    data = [v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in values]
    payload = json.dumps({"list": list_fingerprint, "keys": data}, separators=(",", ":"))
    return base64.urlsafe_b64encode(f"{_checksum(payload)}:{payload}".encode()).decode()


def decode_cursor(cursor: str, keys: Sequence[Key], list_fingerprint: str) -> list[Any]:
    """The key values an `after` cursor holds; a UserError for what this API never wrote for
    this list, order and filter."""
    invalid = UserError(f"after: {shortened(cursor)} is not a cursor from this API")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        text = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True).decode()
        check, _, payload = text.partition(":")
        data = json.loads(payload) if check == _checksum(payload) else None
    except (ValueError, binascii.Error, RecursionError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise invalid
    if data.get("list") != list_fingerprint:
        raise UserError(
            f"after: {shortened(cursor)} is not a cursor of this list's order and filter "
            "(it was made for another; ask for the first page again)"
        )
    if len(data["keys"]) != len(keys):
        raise invalid
    values = [_read(key, value) for key, value in zip(keys, data["keys"], strict=True)]
    if any(value is _INVALID for value in values):
        raise invalid
    return values


_INVALID = object()


def _read(key: Key, value: Any) -> Any:
    """A cursor's value for `key`, as the database compares it (_INVALID if it is none)."""
    if value is None:
        return None if key.nullable else _INVALID
    if key.kind is bool:
        return value if isinstance(value, bool) else _INVALID
    if key.kind is int or key.kind is float:
        return _number(value, whole=key.kind is int)
    return _text(value, key.kind)


def _number(value: Any, *, whole: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
        return _INVALID
    return value if math.isfinite(value) and _SMALLEST <= value <= _LARGEST else _INVALID


def _text(value: Any, kind: type) -> Any:
    """Text, or a date or moment written as text."""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT_VALUE:
        return _INVALID
    if kind is not dt.date and kind is not dt.datetime:
        return value
    try:
        return kind.fromisoformat(value)
    except ValueError:
        return _INVALID
