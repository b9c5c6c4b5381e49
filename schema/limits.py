"""What the API refuses to run, and for how long it runs what it accepts.

Hostile queries are refused before any SQL runs: a document too large or of too many tokens
before it is parsed, one too deep, with too many aliases or too costly (see schema/cost.py)
after it is validated.  What passes runs under a deadline.
"""

import asyncio
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    ValidationRule,
    validate,
)
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
)

from atmp_graph.schema.cost import Measure, measure_operation
from atmp_graph.schema.memo import Memo
from atmp_graph.schema.repeated_fields import GuardedValidationCache

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


@dataclass(frozen=True, kw_only=True)
class QueryLimits:
    """The limits of one API; api/settings.py documents each (ATMP_* variables)."""

    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_bytes: int = 20_000
    max_cost: int = 100_000
    timeout_seconds: float = 30.0
    introspection: bool = True
    field_suggestions: bool = True


class LimitsRule(ValidationRule):
    """Refuses an operation deeper, with more aliases or costlier than its limits allow.

    A subclass made per request (`limits_rule`) carries the limits and the request's
    variables, which the cost of `first: $n` depends on."""

    limits: QueryLimits
    variables: Mapping[str, Any]
    measured: list[Measure]

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        variables = dict(self.variables)
        for definition in node.variable_definitions or ():
            name = definition.variable.name.value
            if name not in variables and definition.default_value is not None:
                variables[name] = _literal(definition.default_value)
        fragments = {
            definition.name.value: definition
            for definition in self.context.document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        measure = measure_operation(
            self.context.schema,
            node,
            fragments=fragments,
            variables=variables,
            max_depth=self.limits.max_depth,
        )
        self.measured.append(measure)
        for message in _excesses(measure, self.limits):
            self.report_error(GraphQLError(message, node, extensions={"code": "QUERY_TOO_LARGE"}))


def _literal(value: Any) -> Any:
    text = getattr(value, "value", None)
    return int(text) if isinstance(text, str) and text.lstrip("-").isdigit() else text


def _excesses(measure: Measure, limits: QueryLimits) -> Iterator[str]:
    if measure.fragments_too_deep:
        yield (
            f"The query's fragments spread one another more than {limits.max_depth} deep; "
            f"the limit is {limits.max_depth} (ATMP_MAX_QUERY_DEPTH)."
        )
    if measure.too_deep:
        yield (
            f"The query is more than {limits.max_depth} levels deep; the limit is "
            f"{limits.max_depth} (ATMP_MAX_QUERY_DEPTH)."
        )
    elif measure.depth > limits.max_depth:
        yield (
            f"The query is {measure.depth} levels deep; the limit is {limits.max_depth} "
            "(ATMP_MAX_QUERY_DEPTH)."
        )
    if measure.aliases > limits.max_aliases:
        yield (
            f"The query uses {measure.aliases} aliases; the limit is {limits.max_aliases} "
            "(ATMP_MAX_QUERY_ALIASES)."
        )
    if measure.cost > limits.max_cost:
        yield (
            f"The query costs {measure.cost}: its answer could hold that many fields, each "
            f"list counted at its `first` (or default) page size; the limit is "
            f"{limits.max_cost} (ATMP_MAX_QUERY_COST). Ask for smaller pages or fewer nested "
            "lists."
        )


def limits_rule(
    limits: QueryLimits, variables: Mapping[str, Any], measured: list[Measure]
) -> type[LimitsRule]:
    return type(
        "RequestLimitsRule",
        (LimitsRule,),
        {"limits": limits, "variables": variables, "measured": measured},
    )


@dataclass
class Deadline:
    """A request's execution deadline; `expired` once it has passed and cancelled the task."""

    seconds: float
    expired: bool = False

    def error(self) -> GraphQLError:
        return GraphQLError(
            f"The query ran longer than {self.seconds:g} s and was stopped (ATMP_QUERY_TIMEOUT).",
            extensions={"code": "QUERY_TIMEOUT"},
        )


_MEASURED: Memo[tuple[tuple[GraphQLError, ...], list[Measure]]] = Memo()


class QueryLimiter(SchemaExtension):
    """Enforces `limits` on each operation and reports its cost in `extensions.cost`."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        self.measured: list[Measure] = []

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        size = len(query.encode())
        if size > self.limits.max_bytes:
            raise _refusal(
                f"The query is {size} bytes; the limit is {self.limits.max_bytes} "
                "(ATMP_MAX_QUERY_BYTES)."
            )
        # Strawberry's MaxTokensLimiter passes graphql-core's deprecated `max_tokens`; these
        # are its successors (comments are not tokens, so they get a limit of their own).
        # (Strawberry's ParseOptions type knows only `max_tokens`; parse() takes them all.)
        options: dict[str, Any] = self.execution_context.parse_options  # type: ignore[assignment]
        options["max_lexical_tokens"] = options["max_comments"] = self.limits.max_tokens
        try:
            yield
        except GraphQLSyntaxError as error:
            # graphql-core stops lexing at the token limit; say which setting that is.
            if "Document contains more than" not in error.message:
                raise
            raise _refusal(
                f"The query has more than {self.limits.max_tokens} tokens (or comments); the "
                f"limit is {self.limits.max_tokens} (ATMP_MAX_QUERY_TOKENS)."
            ) from None
        if not self.limits.field_suggestions:
            for reported in self.execution_context.pre_execution_errors or []:
                reported.message = _SUGGESTION.sub("", reported.message)

    def on_validate(self) -> Iterator[None]:
        # Runs after the cached validation: a valid document is measured, with its variables.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            errors, measured = self._measure(context.schema._schema, document, context)
            self.measured += measured
            if errors:
                context.pre_execution_errors = list(errors)
        yield

    def _measure(
        self, schema: Any, document: Any, context: Any
    ) -> tuple[tuple[GraphQLError, ...], list[Measure]]:
        """The refusals and measures of a document with its variables: the same request
        measures the same, so a small cache spares the walk (the parser cache hands the same
        document for the same text)."""
        variables = context.variables or {}
        try:
            key: Any = (self.limits, context.query, json.dumps(variables, sort_keys=True))
        except (TypeError, ValueError):
            key = None

        def walk() -> tuple[tuple[GraphQLError, ...], list[Measure]]:
            measured: list[Measure] = []
            rule = limits_rule(self.limits, variables, measured)
            return tuple(validate(schema, document, [rule])), measured

        if key is None or not context.query:
            return walk()
        return _MEASURED.get(key, walk)

    def on_execute(self) -> Iterator[None]:
        # A sync hook, so that `execute_sync` (which has nothing to stop) works too; under an
        # event loop the task is cancelled at the deadline, as asyncio.timeout does.
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is None:
            yield
            return
        deadline = Deadline(self.limits.timeout_seconds)
        # Where an extension that awaits before execution (the read planner) looks for it.
        if hasattr(self.execution_context.context, "deadline"):
            self.execution_context.context.deadline = deadline

        def expire() -> None:
            deadline.expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_later(self.limits.timeout_seconds, expire)
        try:
            yield
        except asyncio.CancelledError:
            if not deadline.expired:
                raise
            task.uncancel()
            raise deadline.error() from None
        finally:
            timer.cancel()

    def get_results(self) -> dict[str, Any]:
        if not self.measured:
            return {}
        return {
            "cost": {
                "requested": max(measure.cost for measure in self.measured),
                "limit": self.limits.max_cost,
            }
        }


def _refusal(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "QUERY_TOO_LARGE"})


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema's extensions, in the order their hooks must run.

    Each is made fresh per request; the parse and validation caches live at module level and
    are keyed by the document and the rule classes, which are the same on every request."""
    extensions: list[Callable[[], SchemaExtension]] = [
        # Parsing and validating the same document again costs more than small queries do.
        lambda: ParserCache(maxsize=1024),
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    extensions += [lambda: GuardedValidationCache(maxsize=1024), lambda: QueryLimiter(limits)]
    return extensions
