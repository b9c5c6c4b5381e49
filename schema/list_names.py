"""The names of a list's filter and order input types, for the fields that take them: the
types are made when the schema is assembled (schema/list_inputs.py), after those fields."""

from typing import Annotated, Any

import strawberry

from atmp_graph.model import Base

LIST_INPUTS = "atmp_graph.schema.list_inputs"
# A type's inputs are named after it, but where a shorter name was in use before.
_PREFIXES = {"ClinicalTrial": "Trial"}


def list_prefix(model: type[Base]) -> str:
    """What the input types of `model`'s lists are named after: TrialFilter, InstitutionOrder."""
    return _PREFIXES.get(model.__name__, model.__name__)


def filter_type(model: type[Base]) -> Any:
    """The filter input of lists of `model`, as a lazy type."""
    return Annotated[f"{list_prefix(model)}Filter", strawberry.lazy(LIST_INPUTS)]


def order_type(model: type[Base]) -> Any:
    """The order input of lists of `model` (one key of an `orderBy`), as a lazy type."""
    return Annotated[f"{list_prefix(model)}Order", strawberry.lazy(LIST_INPUTS)]
