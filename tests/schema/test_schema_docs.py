"""The schema documents itself, and the committed schema.graphql is the schema the code builds."""

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
)

from atmp_graph.schema.schema import schema

ROOT = Path(__file__).parents[2]
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def _undocumented() -> list[str]:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, argument in field.args.items()
                    if not argument.description
                ]
        elif isinstance(graphql_type, GraphQLInputObjectType):
            missing += [
                f"{name}.{field_name}"
                for field_name, field in graphql_type.fields.items()
                if not field.description
            ]
        else:
            assert isinstance(graphql_type, GraphQLEnumType | GraphQLScalarType)
    return missing


def test_every_type_field_and_argument_has_a_description() -> None:
    # Query and Mutation are root types: GraphiQL shows their fields, which are documented.
    assert [name for name in _undocumented() if name not in {"Query", "Mutation"}] == []


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is out of date: run `atmp-graph export-schema -o schema.graphql`"
    )
