"""A field with no resolver of its own reads its attribute in one call.

Strawberry resolves such a field through three Python calls (its basic-field wrapper, the
field's `get_result`, the configured default resolver); on a list of a thousand nodes with
ten fields that is ten thousand times each.  With getattr as the default resolver (ours), the
three come to one `getattr`, so the field's resolver is made that one call.  Only fields
Strawberry itself marks as basic (no resolver, no field extension: no visibility check, no
permission) are touched.
"""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types.field import StrawberryField

DEFINITION = "strawberry-definition"
BASIC = "_get_basic_result"  # Strawberry's name for the resolver it gives a basic field


def read_basic_fields_directly(schema: GraphQLSchema) -> None:
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            strawberry_field = (field.extensions or {}).get(DEFINITION)
            resolve = field.resolve
            if (
                isinstance(strawberry_field, StrawberryField)
                and strawberry_field.is_basic_field
                and strawberry_field.default_resolver is getattr
                and getattr(resolve, "__name__", "") == BASIC
            ):
                field.resolve = _attribute(strawberry_field.python_name)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve
