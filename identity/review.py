"""The admin's operations on identity: judge suggestions, merge, split, edit aliases.

Shared by the GraphQL mutations and the CLI; each takes a session and leaves the commit to the
caller.  Errors are `MergeError`s that say what is wrong in one sentence.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmp_graph.enums import SuggestionStatus
from atmp_graph.identity import aliases
from atmp_graph.identity.merging import MergeError, merge, record_decision
from atmp_graph.identity.precedence import Precedence
from atmp_graph.model import kinds
from atmp_graph.model.base import Base
from atmp_graph.model.identity import EntityMerge, EntityRedirect, MatchSuggestion
from atmp_graph.normalize import fold_name

ALIASED = {kinds.entity_type_of(model): model for model in aliases.ALIASES}


def review_queue(session: Session, *, pending_only: bool = True) -> list[str]:
    """The suggestions, a line each: number, status, kind, the two nodes' ids and names, why."""
    statement = select(MatchSuggestion).order_by(MatchSuggestion.id)
    if pending_only:
        statement = statement.where(MatchSuggestion.status == SuggestionStatus.PENDING)
    lines = []
    for suggestion in session.scalars(statement):
        model = kinds.model_for(suggestion.entity_type)
        names = [
            getattr(session.get(model, node_id), "name", "(merged)")
            for node_id in (suggestion.entity_id, suggestion.other_id)
        ]
        lines.append(
            f"{suggestion.id}  {suggestion.status.value.lower()}  {suggestion.entity_type}  "
            f"{suggestion.entity_id} {names[0]!r} ~ {suggestion.other_id} {names[1]!r}  "
            f"({suggestion.reason}; score {suggestion.score:.2f})"
        )
    return lines


def current_id(session: Session, entity_type: str, entity_id: int) -> int:
    """The id a node goes by now: its survivor's, if it was merged away."""
    new_id = session.scalar(
        select(EntityRedirect.new_id).where(
            EntityRedirect.entity_type == entity_type, EntityRedirect.old_id == entity_id
        )
    )
    return entity_id if new_id is None else new_id


def _pending(session: Session, suggestion_id: int) -> MatchSuggestion:
    suggestion = session.get(MatchSuggestion, suggestion_id)
    if suggestion is None:
        raise MergeError(f"there is no suggestion {suggestion_id}", field="id")
    if suggestion.status is not SuggestionStatus.PENDING:
        raise MergeError(
            f"suggestion {suggestion_id} was {suggestion.status.value.lower()} already", field="id"
        )
    return suggestion


def accept(
    session: Session, suggestion_id: int, *, precedence: Precedence, survivor_id: int | None = None
) -> EntityMerge | None:
    """Merge the suggested pair (into `survivor_id`, by default the older node).

    Returns None when earlier merges already made the two one node.
    """
    suggestion = _pending(session, suggestion_id)
    entity_type = suggestion.entity_type
    pair = {
        current_id(session, entity_type, i) for i in (suggestion.entity_id, suggestion.other_id)
    }
    if len(pair) == 1:
        _decide(session, suggestion, SuggestionStatus.ACCEPTED)
        return None
    survivor = survivor_id if survivor_id is not None else min(pair)
    if survivor not in pair:
        raise MergeError(
            f"{entity_type} {survivor} is not one of suggestion {suggestion_id}'s pair",
            field="survivor",
        )
    (merged,) = pair - {survivor}
    record = merge(
        session,
        kinds.model_for(entity_type),
        survivor,
        merged,
        reason=f"suggestion {suggestion_id} accepted: {suggestion.reason}",
        precedence=precedence,
    )
    _decide(session, suggestion, SuggestionStatus.ACCEPTED)
    return record


def reject(session: Session, suggestion_id: int) -> MatchSuggestion:
    """The pair are two things: never suggest them again."""
    suggestion = _pending(session, suggestion_id)
    return _decide(session, suggestion, SuggestionStatus.REJECTED)


def _decide(
    session: Session, suggestion: MatchSuggestion, status: SuggestionStatus
) -> MatchSuggestion:
    pair = (suggestion.entity_id, suggestion.other_id)
    return record_decision(session, suggestion.entity_type, pair, status, suggestion.reason)


def _aliased(session: Session, entity_type: str, node_id: int) -> Base:
    model = ALIASED.get(entity_type)
    if model is None:
        kinds = ", ".join(ALIASED)
        raise MergeError(f"{entity_type} nodes have no aliases (only {kinds} do)", field="node")
    node = session.get(model, node_id)
    if node is None:
        raise MergeError(f"there is no {entity_type} {node_id}", field="node")
    return node


def aliases_of(session: Session, node: Base) -> list[str]:
    alias_model, owner_column = aliases.ALIASES[type(node)]
    owner_id = node.id  # type: ignore[attr-defined]
    return list(
        session.scalars(
            select(alias_model.alias)
            .where(getattr(alias_model, owner_column) == owner_id)
            .order_by(alias_model.id)
        )
    )


def add_alias(session: Session, entity_type: str, node_id: int, alias: str) -> list[str]:
    """Let `alias` find this node from the next ingest on."""
    node = _aliased(session, entity_type, node_id)
    folded = fold_name(alias)
    if not folded:
        raise MergeError(f"alias {alias!r} has no letters or digits", field="alias")
    owner = aliases.alias_owner(session, type(node), folded)
    if owner is not None and owner != node_id:
        raise MergeError(
            f"{alias!r} already names {entity_type} {owner}; merge the two nodes instead",
            field="alias",
        )
    aliases.add_aliases(session, node, [(alias, folded)])  # type: ignore[arg-type]
    return aliases_of(session, node)


def remove_alias(session: Session, entity_type: str, node_id: int, alias: str) -> list[str]:
    """Stop `alias` finding this node (its own name stays)."""
    node = _aliased(session, entity_type, node_id)
    folded = fold_name(alias)
    if folded == fold_name(node.name):  # type: ignore[attr-defined]
        raise MergeError(f"{alias!r} is the {entity_type}'s own name", field="alias")
    if not aliases.remove_aliases(session, type(node), node_id, [folded]):
        raise MergeError(f"{entity_type} {node_id} has no alias {alias!r}", field="alias")
    return aliases_of(session, node)
