"""Generated dashboard queries: a stats root field (trialStats, …) with a generated filter and
a selection drawn from the schema itself: any of its fields, aliased, in inline fragments,
skipped or included, breakdowns at any `first` (out of range too), their groups' institutions
with fields of their own.  The general generator (hypothesis-graphql) asks a stats field for
its first field and little else; these ask what a dashboard may.
"""

from typing import Any

import graphql
from graphql import GraphQLInterfaceType, GraphQLObjectType, get_named_type, is_leaf_type
from hypothesis import strategies as st
from hypothesis_graphql import queries

from tests.api.test_fuzz import SCALARS, SDL, as_document, document

STATS_ROOTS = ["trialStats", "projectStats", "productStats", "partnershipStats"]
SCHEMA = graphql.build_schema(SDL)
FIRSTS = [None, None, 0, 1, 2, 20, 100, 101, -1]
DIRECTIVES = ["", "", "", "", " @skip(if: true)", " @include(if: true)", " @skip(if: false)"]
# Object levels below the stats type: a page, its groups, an institution, its relations.
DEPTH = 4


def _askable(field: graphql.GraphQLField) -> bool:
    """A field a selection may ask without arguments of its own (`first` aside)."""
    named = get_named_type(field.type)
    if not (is_leaf_type(named) or isinstance(named, GraphQLObjectType | GraphQLInterfaceType)):
        return False
    return not any(
        graphql.is_non_null_type(argument.type) and argument.default_value is graphql.Undefined
        for argument in field.args.values()
    )


@st.composite
def selection(draw: Any, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
    fields = parent.fields
    names = sorted(
        name
        for name, field in fields.items()
        if _askable(field) and (depth > 0 or is_leaf_type(get_named_type(field.type)))
    )
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    parts = []
    for n, name in enumerate(chosen):
        field = fields[name]
        # The same name twice with other arguments is a conflict: the second gets an alias.
        alias = f"k{n}: " if name in chosen[:n] or draw(st.booleans()) else ""
        first = draw(st.sampled_from(FIRSTS)) if "first" in field.args else None
        arguments = "" if first is None else f"(first: {first})"
        named = get_named_type(field.type)
        below = "" if is_leaf_type(named) else f" {{ {draw(selection(named, depth - 1))} }}"
        text = f"{alias}{name}{arguments}{draw(st.sampled_from(DIRECTIVES))}{below}"
        if isinstance(parent, GraphQLObjectType) and draw(st.integers(0, 3)) == 0:
            text = f"... on {parent.name} {{ {text} }}"
        parts.append(text)
    if draw(st.booleans()):
        parts.append("__typename")
    return " ".join(parts)


def _arguments(tree: graphql.DocumentNode, mode: str) -> str:
    """The arguments hypothesis-graphql gave the root field, tamed as the fuzz tests tame."""
    tamed = graphql.parse(document(tree, mode=mode))
    operation = tamed.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    assert isinstance(root, graphql.FieldNode)
    if not root.arguments:
        return ""
    return "(" + ", ".join(graphql.print_ast(argument) for argument in root.arguments) + ")"


@st.composite
def stats_queries(draw: Any) -> str:
    root = draw(st.sampled_from(STATS_ROOTS))
    tree = draw(queries(SDL, fields=[root], custom_scalars=SCALARS, print_ast=as_document))
    arguments = _arguments(tree, draw(st.sampled_from(["tame", "unfiltered"])))
    query_type = SCHEMA.query_type
    assert query_type is not None
    stats = get_named_type(query_type.fields[root].type)
    assert isinstance(stats, GraphQLObjectType)
    return f"{{ {root}{arguments} {{ {draw(selection(stats, DEPTH))} }} }}"
