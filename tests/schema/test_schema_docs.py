"""The schema documents itself (that schema.graphql is what it builds: test_schema_contract)."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
)

from atmp_graph.schema.schema import schema

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
        elif isinstance(graphql_type, GraphQLEnumType):
            missing += [
                f"{name}.{value_name}"
                for value_name, value in graphql_type.values.items()
                if not value.description
            ]
        else:
            assert isinstance(graphql_type, GraphQLScalarType), f"{name}: a kind of type to check"
    return missing


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    # Query, Mutation and Subscription are root types: GraphiQL shows their fields, which are
    # documented.
    roots = {"Query", "Mutation", "Subscription"}
    assert [name for name in _undocumented() if name not in roots] == []


def test_graphiql_users_read_what_each_enum_value_means() -> None:
    # GraphiQL's docs explorer and autocompletion show what introspection gives them.
    result = schema.execute_sync(
        '{ __type(name: "TrialStatus") { enumValues { name description } } }'
    )

    assert result.errors is None
    assert result.data is not None
    values = {value["name"]: value["description"] for value in result.data["__type"]["enumValues"]}
    assert values["WITHDRAWN"] == "Stopped before its first participant enrolled."
    assert values["ACTIVE_NOT_RECRUITING"] == (
        "Going on (participants treated or followed up), but recruiting no one new."
    )
