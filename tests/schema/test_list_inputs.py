"""The generated filter and order inputs offer nothing a viewer of the type may not see, and
their SQL is plain expressions a query compiler can put over an alias of the model."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

import atmp_graph.model as m
from atmp_graph.model.database import make_engine
from atmp_graph.schema import list_inputs
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.keyset import after_condition, order_clauses
from atmp_graph.schema.mapping import mapped_types
from atmp_graph.schema.nested import CONNECTION_OF, RELATION
from atmp_graph.schema.ordering import OrderDirection, order_keys
from atmp_graph.schema.schema import schema
from atmp_graph.schema.visibility import FIELD_TIERS, PUBLIC, TYPE_TIERS

TYPES = schema._schema.type_map


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# The fields more closed than their type: not everyone who may list the type may see them.
CLOSER = sorted(key for key, tier in FIELD_TIERS.items() if tier is not TYPE_TIERS[key[0]])


@pytest.mark.parametrize(("type_name", "field"), CLOSER)
def test_a_field_not_everyone_sees_is_in_no_filter_and_no_order(type_name: str, field: str) -> None:
    prefix = "Trial" if type_name == "ClinicalTrial" else type_name
    filters = getattr(TYPES.get(f"{prefix}Filter"), "fields", {})
    orders = getattr(TYPES.get(f"{prefix}OrderField"), "values", {})

    assert _camel(field) not in filters
    assert field.upper() not in orders


def test_no_nested_list_leads_to_a_type_its_parents_viewers_may_not_see() -> None:
    """So neither a list nor the connection beside it needs screening item by item."""
    for node_type in mapped_types():
        definition = node_type.__strawberry_definition__
        tier = TYPE_TIERS.get(definition.name, PUBLIC)
        for field in definition.fields:
            relation = field.metadata.get(RELATION) or field.metadata.get(CONNECTION_OF)
            if relation is None:
                continue
            target = relation.property.mapper.class_
            target_name = next(t for t in mapped_types() if t.__model__ is target).__name__
            assert TYPE_TIERS.get(target_name, PUBLIC) in (PUBLIC, tier), (definition.name, field)


@pytest.fixture
def demo_session(demo_database_url: str) -> Any:
    engine = make_engine(demo_database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_the_same_filter_and_order_over_an_alias(demo_session: Session) -> None:
    """What a query compiler does: the lists' functions over an alias of its choosing."""
    li: Any = list_inputs
    trial = aliased(m.ClinicalTrial, name="listed")
    # Trials whose sponsor sponsors a completed trial (another alias of the same table)...
    filters = li.TrialFilter(
        sponsor=li.InstitutionFilter(
            sponsored_trials=li.TrialFilter(status=li.TrialStatusFilter(eq="COMPLETED"))
        )
    )
    # ...newest first.
    order_by = [li.TrialOrder(field=li.TrialOrderField.START_DATE, direction=OrderDirection.DESC)]
    keys = order_keys(trial, order_by)
    statement = (
        select(trial.nct_id, *(key.expression for key in keys))
        .where(*filter_conditions(trial, filters))
        .order_by(*order_clauses(keys))
    )

    rows = demo_session.execute(statement).all()
    after_first = demo_session.execute(
        statement.where(after_condition(keys, list(rows[0][1:])))
    ).all()

    assert [row[0] for row in rows] == ["NCT04797260", "NCT01144962"]
    assert [row[0] for row in after_first] == ["NCT01144962"]
