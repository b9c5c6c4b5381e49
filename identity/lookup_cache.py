"""The one lookup cache of an ingest: which institution a reference means, which condition a
name is, where a site is.

A batch asks the same things again and again (the same sponsor on every row, the same site
for every trial).  The ingest keeps one cache for its whole run and hands it to the bulk
writers and to value resolution, so both find the same node and ask the database once.
Rows made inside a savepoint vanish when it rolls back, so the pipeline clears the cache
whenever one does.  Outside an ingest (a merge, an admin's edit) a call makes its own.
"""

import enum
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmp_graph.identity import lookup
from atmp_graph.identity.sites import SitePlace, site_place
from atmp_graph.model.research import ConditionAlias
from atmp_graph.normalize import fold_name


def reference_key(ref: Mapping[str, Any]) -> str:
    """A reference's identity as a cache key: its non-empty fields, in a stable order, an enum
    (a company's kind) by its value, as claims keep it."""
    plain = {k: v for k, v in ref.items() if v is not None}
    return json.dumps(plain, sort_keys=True, default=_plain_value)


def _plain_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not part of a reference")


class LookupCache:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._institutions: dict[str, int | None] = {}
        self._conditions: dict[str, int] = {}
        self._places: dict[str, SitePlace] = {}

    def institution_id(self, ref: Mapping[str, Any]) -> int | None:
        """The institution `ref` means, or None if none does."""
        key = reference_key(ref)
        if key not in self._institutions:
            found = lookup.institution_for(self.session, ref)
            self._institutions[key] = None if found is None else found.id
        return self._institutions[key]

    def known_institution(self, ref: Mapping[str, Any]) -> int | None:
        """The institution this ingest already found or wrote for `ref`; no query."""
        return self._institutions.get(reference_key(ref))

    def remember_institution(self, ref: Mapping[str, Any], institution_id: int) -> None:
        """A writer wrote (or found) the institution `ref` means."""
        self._institutions[reference_key(ref)] = institution_id
        if ref.get("name"):
            # Sites of that name may be at this institution now.
            self._places.pop(fold_name(str(ref["name"])), None)

    def condition_id(self, name: str) -> int | None:
        """The condition this ingest already found or wrote for `name`; no query."""
        return self._conditions.get(fold_name(name))

    def find_conditions(self, names: set[str]) -> None:
        """Look up, in one query, the conditions of those names not asked for yet."""
        missing = sorted({fold_name(name) for name in names} - set(self._conditions))
        if missing:
            rows = self.session.execute(
                select(ConditionAlias.normalized, ConditionAlias.condition_id).where(
                    ConditionAlias.normalized.in_(missing)
                )
            )
            self._conditions.update({row.normalized: row.condition_id for row in rows})

    def remember_condition(self, name: str, condition_id: int) -> int:
        self._conditions[fold_name(name)] = condition_id
        return condition_id

    def place(self, name: str) -> SitePlace:
        """Where a site of this name is: its facility, institution, city and country."""
        folded = fold_name(name)
        if folded not in self._places:
            self._places[folded] = site_place(self.session, name)
        return self._places[folded]

    def clear(self) -> None:
        self._institutions.clear()
        self._conditions.clear()
        self._places.clear()
