"""The schema as a contract: what changed from the committed baseline schema, and whether the
changelog declares every change that can break a client.

A breaking change is declared by a list item under CHANGELOG.md's `## Unreleased` heading
that starts with `Breaking:` and names, in backticks, each schema coordinate it breaks:

    - Breaking: `ClinicalTrial.acronym`, `Query.trials(phase:)`: what clients do instead.
"""

import re
from dataclasses import dataclass

from graphql import (
    DEFAULT_DEPRECATION_REASON,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)
from graphql.utilities import BreakingChangeType, DangerousChangeType, find_schema_changes

__all__ = [
    "Change",
    "ContractReport",
    "check",
    "declared_coordinates",
    "deprecations_without_reason",
]

# graphql-core 3.3 names each change's schema coordinate in its description. The union and
# interface messages name the member before the type that changed, and the type-level ones
# name only the type, so those are tried before the first member (`T.f`, `T.f(a:)`, `@d`).
_COORDINATE_IN_DESCRIPTION = (
    re.compile(r"union type (\w+)"),
    re.compile(r"implemented by (\w+)|^(\w+) no longer implements"),
    re.compile(r"(@?\w+(?:\.\w+)?\(\w+:\)|\w+\.\w+|@\w+)"),
    re.compile(r"^(?:Standard scalar )?(\w+)"),
)
_UNRELEASED = re.compile(r"^## Unreleased[ \t]*$(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
# A list item (bold allowed) whose first words are the backticked coordinates it declares.
_DECLARATION = re.compile(
    r"""^[ \t]* [-*] [ \t]+ (?:\*\*)? Breaking: (?:\*\*)? [ \t]+
        ( (?: `[^`\n]+` (?: [ \t]*, | [ \t]+and )? [ \t]* )+ )""",
    re.MULTILINE | re.VERBOSE,
)


@dataclass(frozen=True)
class Change:
    """One difference between the baseline and the built schema, as graphql-core tells it."""

    coordinate: str
    kind: str
    description: str

    def line(self) -> str:
        return f"`{self.coordinate}` ({self.kind}): {self.description}"


@dataclass(frozen=True)
class ContractReport:
    """The changes from the baseline, split by whether they may fail CI."""

    undeclared: list[Change]
    declared: list[Change]
    dangerous: list[Change]
    deprecated_without_reason: list[str]

    def lines(self) -> list[str]:
        return [
            *(f"breaking, not declared: {change.line()}" for change in self.undeclared),
            *(f"breaking, declared: {change.line()}" for change in self.declared),
            # Dangerous changes (an enum value or an optional argument added, a default
            # changed) break only clients that assumed too much: reported, never failing.
            *(f"dangerous: {change.line()}" for change in self.dangerous),
            *(
                f"deprecated without a reason: `{coordinate}`"
                for coordinate in self.deprecated_without_reason
            ),
        ]


def _coordinate(description: str) -> str:
    for pattern in _COORDINATE_IN_DESCRIPTION:
        if found := pattern.search(description):
            return next(group for group in found.groups() if group)
    raise ValueError(f"graphql-core described a change without naming it: {description}")


def declared_coordinates(changelog: str) -> set[str]:
    """The coordinates the changelog's `## Unreleased` section declares broken on purpose."""
    unreleased = _UNRELEASED.search(changelog)
    if unreleased is None:
        return set()
    return {
        coordinate
        for names in _DECLARATION.findall(unreleased[1])
        for coordinate in re.findall(r"`([^`]+)`", names)
    }


def deprecations_without_reason(sdl: str) -> list[str]:
    """Every deprecated field, argument, input field and enum value whose @deprecated gives
    no reason (graphql-core fills in "No longer supported", which tells a client nothing)."""
    deprecated: list[tuple[str, str | None]] = []
    for name, named_type in build_schema(sdl).type_map.items():
        if isinstance(named_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named_type.fields.items():
                deprecated.append((f"{name}.{field_name}", field.deprecation_reason))
                deprecated += [
                    (f"{name}.{field_name}({arg_name}:)", arg.deprecation_reason)
                    for arg_name, arg in field.args.items()
                ]
        elif isinstance(named_type, GraphQLInputObjectType):
            deprecated += [
                (f"{name}.{field_name}", field.deprecation_reason)
                for field_name, field in named_type.fields.items()
            ]
        elif isinstance(named_type, GraphQLEnumType):
            deprecated += [
                (f"{name}.{value_name}", value.deprecation_reason)
                for value_name, value in named_type.values.items()
            ]
    return [
        coordinate
        for coordinate, reason in deprecated
        if reason is not None and reason.strip() in {"", DEFAULT_DEPRECATION_REASON}
    ]


def check(*, baseline: str, built: str, changelog: str) -> ContractReport:
    """Compares the built schema's SDL with the baseline's, against the changelog's text."""
    changes = find_schema_changes(build_schema(baseline), build_schema(built))
    breaking = [
        Change(_coordinate(change.description), change.type.name, change.description)
        for change in changes
        if isinstance(change.type, BreakingChangeType)
    ]
    declared = declared_coordinates(changelog)
    return ContractReport(
        undeclared=[change for change in breaking if change.coordinate not in declared],
        declared=[change for change in breaking if change.coordinate in declared],
        dangerous=[
            Change(_coordinate(change.description), change.type.name, change.description)
            for change in changes
            if isinstance(change.type, DangerousChangeType)
        ],
        deprecated_without_reason=deprecations_without_reason(built),
    )
