"""Uncertain matches: nodes with similar names and no shared identifier, for an admin to judge.

Nothing here merges anything.  After each ingest the new institutions, conditions and products
are compared with the others of their kind; each similar pair becomes a pending
`MatchSuggestion` unless the pair was suggested before (accepted, rejected or split).

Similar means: the distinctive words of the two names (folded, plural "s" dropped, generic
words like "university" or "disease" left out) overlap by half or more (Jaccard), and no
number in one is missing from the other ("Condition 1" is not "Condition 2").  Products
of the same trial that came from different feeds are suggested too, whatever their names.
"""

from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from atmp_graph.enums import SuggestionStatus
from atmp_graph.identity import lookup
from atmp_graph.model import kinds
from atmp_graph.model.associations import trial_product
from atmp_graph.model.base import Base
from atmp_graph.model.collaboration import Institution, InstitutionAlias
from atmp_graph.model.identity import EntityRedirect, MatchSuggestion
from atmp_graph.model.research import Condition, ConditionAlias, Product
from atmp_graph.model.trials import ClinicalTrial
from atmp_graph.normalize import fold_name

THRESHOLD = 0.6
# A word that more nodes than this share says nothing about any two of them.
COMMON = 50
# Words too common in names of their kind to tell two nodes apart.
_GENERIC_WORDS = """
    a ab and as av bv center centre centrum clinic de der des di disease do du et for foundation
    gmbh hospital i inc institute institutet kliniken ltd medical nhs nv of och plc region
    sjukdom sjukhus the trust university universitet universitetssjukhus universiteit van
    cell cells therapy terapi product
"""
GENERIC = frozenset(_GENERIC_WORDS.split())
Pair = tuple[int, int, float, str]  # low id, high id, score, reason
# The kinds whose new nodes are compared with the others of their kind.
SUGGESTED_KINDS: tuple[type[Base], ...] = (Institution, Condition, Product)


def words(name: str) -> frozenset[str]:
    """The distinctive words of a name: folded, without generic words, plural "s" dropped."""
    return frozenset(
        word[:-1] if len(word) > 4 and word.endswith("s") else word
        for word in fold_name(name).split()
        if word not in GENERIC
    )


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b or {w for w in a ^ b if any(ch.isdigit() for ch in w)}:
        return 0.0
    return len(a & b) / len(a | b)


def _names(session: Session, entity_type: str) -> dict[int, set[str]]:
    statements: dict[str, tuple[Select[int, str], ...]] = {
        "institution": (
            select(Institution.id, Institution.name),
            select(InstitutionAlias.institution_id, InstitutionAlias.alias),
        ),
        "condition": (
            select(Condition.id, Condition.name),
            select(ConditionAlias.condition_id, ConditionAlias.alias),
        ),
        "product": (select(Product.id, Product.name),),
    }
    names: dict[int, set[str]] = defaultdict(set)
    for statement in statements[entity_type]:
        for node_id, name in session.execute(statement):
            names[node_id].add(name)
    return names


def _similar_pairs(names: dict[int, set[str]], new: set[int]) -> Iterator[Pair]:
    """Each new node's similar pairs, found through an index of words."""
    node_words = {node: [words(name) for name in sorted(given)] for node, given in names.items()}
    index: dict[str, set[int]] = defaultdict(set)
    for node, sets in node_words.items():
        for word in set().union(*sets):
            index[word].add(node)
    seen: set[tuple[int, int]] = set()
    for node in sorted(new & names.keys()):
        candidates = set().union(
            *(index[w] for w in set().union(*node_words[node]) if len(index[w]) <= COMMON)
        )
        for other in sorted(candidates - {node}):
            pair = (min(node, other), max(node, other))
            if pair in seen:
                continue
            seen.add(pair)
            best = max(
                ((similarity(a, b), a & b) for a in node_words[node] for b in node_words[other]),
                key=lambda scored: scored[0],
            )
            if best[0] >= THRESHOLD:
                shared = ", ".join(sorted(best[1]))
                yield (*pair, round(best[0], 2), f"names share {shared!r} and no identifier")


def _products_of_one_trial(session: Session, new: set[int]) -> Iterator[Pair]:
    """Products of the same trial that different feeds sent."""
    trials: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, str] = {}
    rows = session.execute(
        select(trial_product.c.clinical_trial_id, trial_product.c.product_id, ClinicalTrial.nct_id)
        .join(ClinicalTrial, ClinicalTrial.id == trial_product.c.clinical_trial_id)
        .where(
            trial_product.c.clinical_trial_id.in_(
                select(trial_product.c.clinical_trial_id).where(trial_product.c.product_id.in_(new))
            )
        )
    )
    for trial_id, product_id, nct_id in rows:
        trials[trial_id].add(product_id)
        labels[trial_id] = nct_id or f"#{trial_id}"
    feeds = lookup.feeds_of(session, "product", set().union(*trials.values()))
    for trial_id, products in sorted(trials.items()):
        for a, b in combinations(sorted(products), 2):
            of_a, of_b = feeds.get(a, set()), feeds.get(b, set())
            if (a in new or b in new) and of_a and of_b and not of_a & of_b:
                reason = f"both are products of trial {labels[trial_id]}, from different feeds"
                yield a, b, 0.5, reason


def _distinct_institutions(session: Session, pairs: list[Pair]) -> set[tuple[int, int]]:
    """Pairs known to be two: one is part of the other, or they have different identifiers
    of one scheme (ROR ids, keys, registration numbers)."""
    ids = {node for pair in pairs for node in pair[:2]}
    rows = session.execute(
        select(
            Institution.id,
            Institution.part_of_id,
            Institution.ror_id,
            Institution.key,
            Institution.registration_number,
        ).where(Institution.id.in_(ids))
    ).all()
    known = {row.id: row for row in rows}
    distinct = set()
    for low, high, *_ in pairs:
        a, b = known[low], known[high]
        if (
            a.part_of_id == high
            or b.part_of_id == low
            or any(
                x is not None and y is not None and x != y
                for x, y in zip(a[2:], b[2:], strict=True)
            )
        ):
            distinct.add((low, high))
    return distinct


def max_ids(session: Session) -> dict[str, int]:
    """The highest id of each kind, so that the next run's new nodes can be told apart."""
    return {
        kinds.entity_type_of(model): session.scalar(
            select(func.coalesce(func.max(model.id), 0))  # type: ignore[attr-defined]
        )
        or 0
        for model in SUGGESTED_KINDS
    }


def _prune(session: Session, entity_type: str, model: type[Base]) -> None:
    """Bring pending suggestions up to date with later data: a node merged away is replaced by
    its survivor (the pair is dropped if that makes it one node, or a pair already asked); a
    pair found to be two (one part of the other, different identifiers) is withdrawn."""
    pending = session.scalars(
        select(MatchSuggestion).where(
            MatchSuggestion.entity_type == entity_type,
            MatchSuggestion.status == SuggestionStatus.PENDING,
        )
    ).all()
    ids = {node for s in pending for node in (s.entity_id, s.other_id)}
    moved = {
        row.old_id: row.new_id
        for row in session.execute(
            select(EntityRedirect.old_id, EntityRedirect.new_id).where(
                EntityRedirect.entity_type == entity_type, EntityRedirect.old_id.in_(ids)
            )
        )
    }
    asked = {(s.entity_id, s.other_id) for s in pending}
    for suggestion in pending:
        low, high = sorted(moved.get(n, n) for n in (suggestion.entity_id, suggestion.other_id))
        if (low, high) == (suggestion.entity_id, suggestion.other_id):
            continue
        if low == high or (low, high) in asked:
            session.delete(suggestion)
        else:
            suggestion.entity_id, suggestion.other_id = low, high
            asked.add((low, high))
    session.flush()
    if entity_type == "institution":
        live = [(s.entity_id, s.other_id, s.score, s.reason) for s in pending if s in session]
        distinct = _distinct_institutions(session, live)
        for suggestion in pending:
            if suggestion in session and (suggestion.entity_id, suggestion.other_id) in distinct:
                session.delete(suggestion)


def suggest_matches(session: Session, since: dict[str, int]) -> int:
    """Suggest pairs for the nodes made after `since` (see `max_ids`); returns how many."""
    made = 0
    for model in SUGGESTED_KINDS:
        entity_type = kinds.entity_type_of(model)
        _prune(session, entity_type, model)
        new = set(
            session.scalars(select(model.id).where(model.id > since.get(entity_type, 0)))  # type: ignore[attr-defined]
        )
        if not new:
            continue
        pairs = list(_similar_pairs(_names(session, entity_type), new))
        if entity_type == "product":
            pairs += list(_products_of_one_trial(session, new))
        if entity_type == "institution":
            distinct = _distinct_institutions(session, pairs)
            pairs = [p for p in pairs if (p[0], p[1]) not in distinct]
        known = {
            (row.entity_id, row.other_id)
            for row in session.execute(
                select(MatchSuggestion.entity_id, MatchSuggestion.other_id).where(
                    MatchSuggestion.entity_type == entity_type
                )
            )
        }
        for low, high, score, reason in sorted(pairs):
            if (low, high) not in known:
                known.add((low, high))
                session.add(
                    MatchSuggestion(
                        entity_type=entity_type,
                        entity_id=low,
                        other_id=high,
                        score=score,
                        reason=reason,
                    )
                )
                made += 1
    session.flush()
    return made
