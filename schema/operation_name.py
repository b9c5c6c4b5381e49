"""A document of several operations runs only the one its request names.

Strawberry falls back to the first operation when no name is given; the GraphQL spec calls that
a request error, since the client may well have meant another one.
"""

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class OperationNameRequired(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Strawberry keeps what the request said apart from its first-operation fallback only
        # under this name (its `operation_name` property is the fallback).
        named = getattr(context, "_provided_operation_name", None) is not None
        if document is not None and not named:
            operations = [
                definition
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode)
            ]
            if len(operations) > 1:
                # Errors set before validation runs stop the operation as validation's do.
                context.pre_execution_errors = [
                    *(context.pre_execution_errors or ()),
                    GraphQLError(
                        f"The document has {len(operations)} operations: say which to run "
                        "with `operationName`.",
                        nodes=operations,
                    ),
                ]
        yield
