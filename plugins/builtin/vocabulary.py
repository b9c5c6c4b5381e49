"""Translating a feed's own words into the model's, shared by the built-in feeds."""

from collections.abc import Mapping
from typing import Any


def translate(table: Mapping[str, Any], value: Any) -> Any:
    """The model's word for `value`; an unknown value passes through, so validation names it."""
    return table.get(value.strip(), value) if isinstance(value, str) else value
