"""The rule for which feed's value wins each field of a node that several feeds describe.

Configured in TOML (identity/precedence.toml is the default and documents the format); a rank is
a plain sort key, so the winner never depends on the order feeds were ingested in.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError, model_validator

DEFAULT_RULES = Path(__file__).with_name("precedence.toml")
OTHERS = "*"
# The feed of the values curators set by hand (identity/curation.py): first in every order,
# so a curated value wins over every feed's; an order that does not name it gets it first.
CURATION = "curation"


class PrecedenceError(ValueError):
    """The precedence file says something that cannot be applied."""


class _Rules(BaseModel, extra="forbid"):
    orders: dict[str, list[str]]
    fields: dict[str, str] = {}
    own_codes: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> "_Rules":
        if "default" not in self.orders:
            raise ValueError("[orders] needs a `default` order")
        for name, order in self.orders.items():
            if order.count(OTHERS) != 1:
                raise ValueError(f'order {name!r} must name "*" (all other feeds) exactly once')
        for key in [*self.fields, *self.own_codes]:
            if key.count(".") != 1:
                raise ValueError(f'field {key!r} must read "entity_type.field"')
        for key, order_name in self.fields.items():
            if order_name not in self.orders:
                raise ValueError(f"field {key!r} uses order {order_name!r}, which [orders] lacks")
        return self


@dataclass(frozen=True)
class Precedence:
    orders: dict[str, tuple[str, ...]]
    fields: dict[str, str] = field(default_factory=dict)
    own_codes: frozenset[str] = frozenset()

    def rank(self, entity_type: str, field_name: str, feed: str) -> tuple[int, str]:
        """Sort key of `feed`'s value for this field: the smallest wins."""
        order = self.orders[self.fields.get(f"{entity_type}.{field_name}", "default")]
        position = order.index(feed) if feed in order else order.index(OTHERS)
        return position, feed

    def order_for(self, entity_type: str, field_name: str) -> str:
        """The name of the order this field follows."""
        return self.fields.get(f"{entity_type}.{field_name}", "default")

    def can_conflict(self, entity_type: str, field_name: str) -> bool:
        return f"{entity_type}.{field_name}" not in self.own_codes


def load_precedence(path: Path | None = None) -> Precedence:
    """Read a precedence file; errors name the file and what is wrong with it."""
    source = path or DEFAULT_RULES
    try:
        rules = _Rules.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PrecedenceError(f"precedence file {source}: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in error.errors()
        )
        raise PrecedenceError(f"precedence file {source}: {problems}") from None
    return Precedence(
        orders={name: _curation_first(order) for name, order in rules.orders.items()},
        fields=dict(rules.fields),
        own_codes=frozenset(rules.own_codes),
    )


def _curation_first(order: list[str]) -> tuple[str, ...]:
    return tuple(order) if CURATION in order else (CURATION, *order)
