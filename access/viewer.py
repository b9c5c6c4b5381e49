"""The one answer to "may this caller see that": a viewer, and the tier a thing needs.

Tiers, from open to closed: PUBLIC (anyone); PARTNER (any key of an institution of the
collaboration); PARTY (the institutions party to the thing, and admins); CURATOR (curators and
admins: ingest, quarantine, matching, provenance internals); ADMIN.  A curator is a partner
too; an admin is everything.
"""

import enum
from collections.abc import Collection
from dataclasses import dataclass

from atmp_graph.enums import Role


class Tier(enum.Enum):
    PUBLIC = "public"
    PARTNER = "partner"
    PARTY = "party"
    CURATOR = "curator"
    ADMIN = "admin"


# Which roles reach each tier regardless of parties (PARTY: admins; parties by institution).
_ROLES: dict[Tier, set[Role | None]] = {
    Tier.PUBLIC: {None, Role.PARTNER, Role.CURATOR, Role.ADMIN},
    Tier.PARTNER: {Role.PARTNER, Role.CURATOR, Role.ADMIN},
    Tier.PARTY: {Role.ADMIN},
    Tier.CURATOR: {Role.CURATOR, Role.ADMIN},
    Tier.ADMIN: {Role.ADMIN},
}


@dataclass(frozen=True)
class Viewer:
    """The caller: anonymous (no role), or a key's role and institution."""

    role: Role | None = None
    institution_id: int | None = None
    key_id: int | None = None

    def may(self, tier: Tier, parties: Collection[int] = ()) -> bool:
        """Whether the viewer reaches `tier`; for PARTY, `parties` are the institutions."""
        if self.role in _ROLES[tier]:
            return True
        return tier is Tier.PARTY and self.role is not None and self.institution_id in parties

    @property
    def who(self) -> str:
        """How audit entries and refusals name the viewer."""
        if self.role is None:
            return "anonymous"
        return f"key {self.key_id} ({self.role.value.lower()} of institution {self.institution_id})"


ANONYMOUS = Viewer()


def refusal(tier: Tier) -> str:
    """The sentence a refused caller reads."""
    return {
        Tier.PUBLIC: "",
        Tier.PARTNER: "only signed-in partners may see this (send `Authorization: Bearer <key>`)",
        Tier.PARTY: "only the parties to it and admins may see this",
        Tier.CURATOR: "only curators and admins may see this",
        Tier.ADMIN: "only admins may do this",
    }[tier]
