"""A small bounded memo for what a request's document alone decides (the parser cache hands
the same document for the same text), so the same request is not measured twice."""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """Values by key, at most `size` of them; the oldest goes first."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._values: dict[Hashable, V] = {}

    def peek(self, key: Hashable) -> V | None:
        """The value kept for `key`, if one is."""
        return self._values.get(key)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        if key not in self._values:
            if len(self._values) >= self.size:
                self._values.pop(next(iter(self._values)))
            self._values[key] = compute()
        return self._values[key]
