"""A guard for graphql-core's overlapping-fields rule, which compares every pair of fields that
answer under one name: 500 copies of `sponsor { name }` in one selection, 8 KB of query, keep
validation busy for seconds.  Counted before validation runs, a selection that repeats one
answer name more than MAX_REPEATS times (fields merged in from inline fragments and fragment
spreads included) is refused instead; real queries repeat a field a few times at most.
"""

import functools
from collections import Counter
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.extensions import ValidationCache

from atmp_graph.schema.memo import Memo

MAX_REPEATS = 10


class _Counts:
    """How often each answer name occurs in a selection, fragments merged in, each fragment
    counted once however often it is spread (a fragment bomb multiplies, it is not walked)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Counter[str]] = {}

    def of(
        self, selection_set: SelectionSetNode, entered: frozenset[str] = frozenset()
    ) -> Counter[str]:
        counts: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counts[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                counts.update(self.of(selection.selection_set, entered))
            elif isinstance(selection, FragmentSpreadNode):
                counts.update(self._fragment(selection.name.value, entered))
        return counts

    def _fragment(self, name: str, entered: frozenset[str]) -> Counter[str]:
        # A fragment that spreads itself is entered once; validation reports the cycle.
        if name not in self.fragments or name in entered:
            return Counter()
        if name not in self.memo:
            self.memo[name] = self.of(self.fragments[name].selection_set, entered | {name})
        return self.memo[name]


def most_repeated(document: DocumentNode) -> tuple[str, int] | None:
    """The answer name repeated most often in any one selection, if over MAX_REPEATS."""
    counting = _Counts(document)
    todo: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if hasattr(d, "selection_set")
    ]
    worst: tuple[str, int] | None = None
    seen = 0
    while todo and seen < 100_000:
        selection_set = todo.pop()
        seen += 1
        counts = counting.of(selection_set)
        if counts:
            name, count = counts.most_common(1)[0]
            if count > MAX_REPEATS and (worst is None or count > worst[1]):
                worst = (name, count)
        todo += [
            s.selection_set
            for s in selection_set.selections
            if isinstance(s, FieldNode | InlineFragmentNode) and s.selection_set is not None
        ]
    return worst


_COUNTED: Memo[tuple[str, int] | None] = Memo()


class GuardedValidationCache(ValidationCache):
    """Strawberry's validation cache, which first refuses a selection repeating a field too
    often (before the costly rule can run)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        repeated = None
        if document is not None:
            # The parser cache hands the same document for the same text: count it once.
            counting = functools.partial(most_repeated, document)
            repeated = _COUNTED.get(context.query, counting) if context.query else counting()
        if repeated is None:
            yield from super().on_validate()
            return
        name, count = repeated
        self.execution_context.pre_execution_errors = [
            GraphQLError(
                f"The query asks for `{name}` {count} times in one selection; the most is "
                f"{MAX_REPEATS}.",
                extensions={"code": "QUERY_TOO_LARGE"},
            )
        ]
        yield
