"""The names a node goes by: each kind's alias table, and adding and removing aliases."""

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from atmp_graph.model.base import Base
from atmp_graph.model.collaboration import (
    Facility,
    FacilityAlias,
    Institution,
    InstitutionAlias,
)
from atmp_graph.model.research import Condition, ConditionAlias

# node type -> (its alias table, the alias table's column naming the node)
AliasTable = type[InstitutionAlias] | type[FacilityAlias] | type[ConditionAlias]


ALIASES: dict[type[Base], tuple[AliasTable, str]] = {
    Institution: (InstitutionAlias, "institution_id"),
    Facility: (FacilityAlias, "facility_id"),
    Condition: (ConditionAlias, "condition_id"),
}


def alias_owner(session: Session, model: type[Base], folded: str) -> int | None:
    """The node of kind `model` that this folded name is an alias of."""
    alias_model, owner_column = ALIASES[model]
    return session.scalar(
        select(getattr(alias_model, owner_column)).where(alias_model.normalized == folded)
    )


def add_aliases(
    session: Session,
    owner: Institution | Facility | Condition,
    names: Iterable[tuple[str, str]],
    *,
    respell: bool = False,
) -> None:
    """Give `owner` each (alias, folded alias) it does not have yet; a taken alias stays put.

    With `respell`, an alias the owner has already takes this spelling ("Region Skåne" for
    "Region Skane"): the record that describes a node spells its names, not a passing mention.
    """
    alias_model, owner_column = ALIASES[type(owner)]
    session.flush()
    for alias, folded in names:
        taken = session.scalars(select(alias_model).where(alias_model.normalized == folded)).first()
        if taken is None:
            session.add(alias_model(alias=alias, normalized=folded, **{owner_column: owner.id}))
            session.flush()
        elif respell and getattr(taken, owner_column) == owner.id:
            taken.alias = alias  # type: ignore[attr-defined]


def remove_aliases(
    session: Session, model: type[Base], owner_id: int, folded: Sequence[str]
) -> int:
    """Take these folded names from the node's aliases; returns how many went."""
    alias_model, owner_column = ALIASES[model]
    result = session.execute(
        delete(alias_model).where(
            getattr(alias_model, owner_column) == owner_id, alias_model.normalized.in_(folded)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
