"""Notes on the context which operation a request runs, for the request's log line and metrics.

Strawberry keeps the parsed document to itself; the HTTP view reads the operation's type and
name from the context once the schema has run.
"""

from collections.abc import Iterator

from graphql import get_operation_ast
from strawberry.extensions import SchemaExtension

from atmp_graph.schema.context import Context


class OperationFacts(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        context = execution.context
        if document is not None and isinstance(context, Context):
            operation = get_operation_ast(document, execution.operation_name)
            if operation is not None:
                context.operation_type = operation.operation.value
                context.operation_name = None if operation.name is None else operation.name.value
        yield
