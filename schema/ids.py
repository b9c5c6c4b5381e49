"""The numbers inside global ids and cursors, checked before they reach the database."""

import re

# Ids are INTEGER columns: PostgreSQL's hold 32 bits, and a larger number is no row's id (nor
# an offset into a list of rows).
MAX_ROW_ID = 2**31 - 1
# ASCII digits only: int() also reads other scripts' digits, which we never write.
_DIGITS = re.compile(r"[0-9]{1,10}")


def small_number(text: str) -> int | None:
    """The number from 0 to MAX_ROW_ID that `text` spells, or None."""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None


def row_id(text: str) -> int | None:
    """The row id `text` spells, or None when no row can have it."""
    return small_number(text) or None
