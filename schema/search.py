"""`search(query:, types:, first:, after:)`: ranked hits over seven kinds of node, one field.

The ranked query is model/search_query.py's; this module checks the arguments, leaves out the
kinds the viewer may not list, pages by keyset cursors (score, kind, id) that belong to one
search, and turns each hit's marked field text into an HTML-safe fragment.
"""

import base64
import enum
import hashlib
import html
import math
import re
from dataclasses import dataclass
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.utils.str_converters import to_camel_case

from atmp_graph.access.viewer import Viewer
from atmp_graph.model import search_query
from atmp_graph.model.search_query import START, STOP, After, Hit
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_SIZE, PageSize
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.ids import small_number
from atmp_graph.schema.mapping import MappedNode, entity
from atmp_graph.schema.visibility import FIELD_TIERS, PUBLIC, TYPE_TIERS, viewer

PAGE = PageSize(default=20, most=100)
# Marks the field the read planner plans as a search (schema/planner/search_plan.py).
SEARCH = "atmp_graph.search"
MAX_QUERY = 1000  # characters, as every text argument
MAX_WORDS = 32
# A fragment shows this many characters of a longer field, around its first matched word.
FRAGMENT = 200
_CURSOR_PREFIX = "search:"


class SearchType(enum.Enum):
    """A kind of node `search` finds (its value is the kind's entity type)."""

    CLINICAL_TRIAL = "clinical_trial"
    PROJECT = "project"
    PRODUCT = "product"
    INSTITUTION = "institution"
    PARTNERSHIP = "partnership"
    PERSON = "person"
    CONDITION = "condition"


# What each kind is found by (the fields model/search_documents.py indexes).
_SEARCHED = {
    SearchType.CLINICAL_TRIAL: "Clinical trials: title, acronym, registry and local ids.",
    SearchType.PROJECT: "Projects: title, code, summary, lead unit.",
    SearchType.PRODUCT: "Products: name, code, modality.",
    SearchType.INSTITUTION: "Institutions: name, short name, aliases, ROR id, registration "
    "number, city.",
    SearchType.PARTNERSHIP: "Partnerships: code and the company's name (never the terms).",
    SearchType.PERSON: "People: name and ORCID iD.",
    SearchType.CONDITION: "Conditions: name, aliases, MeSH, ICD-10 and MONDO ids.",
}
strawberry.enum(SearchType, description="A kind of node `search` finds.")
for _value in SearchType.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _SEARCHED[SearchType(_value.value)]

# Each kind's GraphQL type and the top-level list of it: a viewer who may not list it gets
# no hits of it.
LISTED_AS = {
    SearchType.CLINICAL_TRIAL: ("ClinicalTrial", "trials"),
    SearchType.PROJECT: ("Project", "projects"),
    SearchType.PRODUCT: ("Product", "products"),
    SearchType.INSTITUTION: ("Institution", "institutions"),
    SearchType.PARTNERSHIP: ("Partnership", "partnerships"),
    SearchType.PERSON: ("Person", "people"),
    SearchType.CONDITION: ("Condition", "conditions"),
}


@strawberry.type(description="A field of the hit that holds the words searched for.")
class SearchHighlight:
    field: str = strawberry.field(
        description="The node's field (camelCase; `aliases` are its other names, `partner` a "
        "partnership's company's name)."
    )
    fragment: str = strawberry.field(
        description="Its text, HTML-escaped, with each matched word in <mark>…</mark>; a long "
        "text is cut to about 200 characters around the first match, with … where it was cut."
    )


@strawberry.type(description="A node that matches a search, with how well and where.")
class SearchHit:
    type: SearchType = strawberry.field(description="Its kind.")
    score: float = strawberry.field(
        description="How well it matches, higher is better; comparable within one search only."
    )
    highlights: list[SearchHighlight] = strawberry.field(
        description="Its fields that hold the words, in the index's order."
    )
    entity_id: strawberry.Private[int]

    @strawberry.field(description="The node itself, with all its fields.")
    async def node(self, info: Info) -> MappedNode:
        found: MappedNode = await entity(info, self.type.value, self.entity_id)
        return found


@strawberry.type(description="One hit of a page and the cursor that points at it.")
class SearchHitEdge:
    cursor: str = strawberry.field(description="Pass as `after` to get the hits after this one.")
    node: SearchHit = strawberry.field(description="The hit.")


@strawberry.type(description="How many nodes of one kind match.")
class SearchTypeCount:
    type: SearchType = strawberry.field(description="The kind.")
    count: int = strawberry.field(description="How many of its nodes match.")


@strawberry.type(description="A page of a search's hits, best first, and how many there are.")
class SearchResults:
    total_count: int = strawberry.field(description="How many hits of the kinds asked for.")
    counts: list[SearchTypeCount] = strawberry.field(
        description="How many hits each kind has, whatever `types` asked for (each kind the "
        "viewer may list, in SearchType's order, zeros included)."
    )
    page_info: relay.PageInfo = strawberry.field(description="Where this page sits.")
    edges: list[SearchHitEdge] = strawberry.field(description="The page's hits with cursors.")

    @strawberry.field(description="The page's hits, for clients that need no cursors.")
    def hits(self) -> list[SearchHit]:
        return [edge.node for edge in self.edges]


def query_words(query: str) -> list[str]:
    """The words to search for; a UserError for a query that has none or too many."""
    if "\x00" in query:
        raise UserError("query: holds a NUL character")
    if len(query) > MAX_QUERY:
        raise UserError(
            f"query: {len(query)} characters, more than the {MAX_QUERY} this argument takes"
        )
    found = search_query.words(query)
    if not found:
        raise UserError("query: give at least one word (letters or digits) to search for")
    if len(found) > MAX_WORDS:
        raise UserError(f"query: {len(found)} words, more than the {MAX_WORDS} a search takes")
    return found


def _fingerprint(words: list[str], types: list[SearchType]) -> str:
    """What a cursor says of the search it came from."""
    said = "\x1f".join([*words, "\x1e", *(t.value for t in types)])
    return hashlib.sha256(said.encode()).hexdigest()[:12]


def encode_cursor(fingerprint: str, hit: Hit) -> str:
    place = f"{int(hit.exact)}:{hit.score!r}:{hit.entity_type}:{hit.entity_id}"
    text = f"{_CURSOR_PREFIX}{fingerprint}:{place}"
    return base64.b64encode(text.encode()).decode()


def decode_cursor(cursor: str, fingerprint: str) -> After:
    """Where a page ends; a UserError for a cursor this search never issued."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError:
        text = ""
    parts = text.removeprefix(_CURSOR_PREFIX).split(":")
    shown = repr(cursor) if len(cursor) <= 40 else f"{cursor[:40]!r}…"
    if not text.startswith(_CURSOR_PREFIX) or len(parts) != 5:
        raise UserError(f"after: {shown} is not a cursor from this API's search")
    said, exact, score_text, entity_type, id_text = parts
    if said != fingerprint:
        raise UserError(f"after: {shown} is a cursor of another search (other words or types)")
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    entity_id = small_number(id_text)
    known = {t.value for t in SearchType}
    if (
        exact not in ("0", "1")
        or not math.isfinite(score)
        or entity_id is None
        or entity_type not in known
    ):
        raise UserError(f"after: {shown} is not a cursor from this API's search")
    return After(exact=exact == "1", score=score, entity_type=entity_type, entity_id=entity_id)


def _segments(marked: str) -> list[tuple[str, bool]]:
    """The text in pieces, each marked or not."""
    segments: list[tuple[str, bool]] = []
    inside = False
    for part in re.split(f"([{START}{STOP}])", marked):
        if part in (START, STOP):
            inside = part == START
        elif part:
            segments.append((part, inside))
    # PostgreSQL marks the parts of LU-P-0001 one by one: mark what joins them too.
    for n in range(1, len(segments) - 1):
        part, inside = segments[n]
        if not inside and segments[n - 1][1] and segments[n + 1][1] and _joiner(part):
            segments[n] = (part, True)
    merged: list[tuple[str, bool]] = []
    for part, inside in segments:
        if merged and merged[-1][1] == inside:
            merged[-1] = (merged[-1][0] + part, inside)
        else:
            merged.append((part, inside))
    return merged


def _window(segments: list[tuple[str, bool]], room: int) -> tuple[int, int]:
    """Where to cut the text: about `room` characters from a little before the first match,
    at word boundaries where it has them."""
    text = "".join(part for part, _ in segments)
    if len(text) <= room:
        return 0, len(text)
    first, offset = 0, 0
    for part, inside in segments:
        if inside:
            first = offset
            break
        offset += len(part)
    begin = max(0, min(first - room // 4, len(text) - room))
    if begin > 0 and (space := text.find(" ", begin, first)) != -1:
        begin = space + 1
    end = min(len(text), begin + room)
    if end < len(text) and (space := text.rfind(" ", begin, end)) > first:
        end = space
    return begin, end


def fragment(marked: str, room: int = FRAGMENT) -> str | None:
    """HTML of a field's marked text (None if nothing in it is marked), cut to `room`."""
    segments = _segments(marked)
    if not any(inside for _, inside in segments):
        return None
    begin, end = _window(segments, room)
    out, offset = [], 0
    for part, inside in segments:
        piece = part[max(0, begin - offset) : max(0, end - offset)]
        offset += len(part)
        if piece:
            out.append(f"<mark>{html.escape(piece)}</mark>" if inside else html.escape(piece))
    total = sum(len(part) for part, _ in segments)
    return ("…" if begin > 0 else "") + "".join(out) + ("…" if end < total else "")


def _joiner(part: str) -> bool:
    return not any(c.isalnum() or c.isspace() for c in part)


def listable(seen_by: Viewer) -> list[SearchType]:
    """The kinds this viewer may list, in SearchType's order."""
    return [
        kind
        for kind, (type_name, list_field) in LISTED_AS.items()
        if seen_by.may(TYPE_TIERS[type_name])
        and seen_by.may(FIELD_TIERS.get(("Query", list_field), PUBLIC))
    ]


@dataclass(frozen=True)
class SearchRequest:
    """A search's arguments, checked, for one viewer: what the resolver runs, and what the
    read planner compiles (schema/planner/search_plan.py), so both answer alike."""

    words: tuple[str, ...]
    size: int
    visible: tuple[SearchType, ...]  # the kinds counted
    wanted: tuple[SearchType, ...]  # the kinds listed
    fingerprint: str
    start: After | None

    @property
    def entity_types(self) -> list[str]:
        return [kind.value for kind in self.wanted]


def search_request(
    seen_by: Viewer,
    *,
    query: str,
    types: list[SearchType] | None,
    first: int | None,
    after: str | None,
) -> SearchRequest:
    """The search these arguments ask for; a UserError for one the API refuses."""
    words = query_words(query)
    size = PAGE.default if first is None else first
    if not 0 <= size <= PAGE.most:
        raise UserError(f"first: {size} is not between 0 and {PAGE.most}")
    visible = listable(seen_by)
    wanted = [kind for kind in visible if types is None or kind in types]
    fingerprint = _fingerprint(words, wanted)
    start = None if after is None else decode_cursor(after, fingerprint)
    return SearchRequest(
        words=tuple(words),
        size=size,
        visible=tuple(visible),
        wanted=tuple(wanted),
        fingerprint=fingerprint,
        start=start,
    )


def search_results(
    request: SearchRequest, counted: dict[str, int], hits: list[Hit]
) -> SearchResults:
    """The answer from the counts per kind and the page's hits (one more than the page: whether
    there is a next one)."""
    edges = [
        SearchHitEdge(cursor=encode_cursor(request.fingerprint, hit), node=_hit(hit))
        for hit in hits[: request.size]
    ]
    page_info = relay.PageInfo(
        has_next_page=len(hits) > request.size,
        has_previous_page=request.start is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return SearchResults(
        total_count=sum(counted.get(kind.value, 0) for kind in request.wanted),
        counts=[
            SearchTypeCount(type=kind, count=counted.get(kind.value, 0)) for kind in request.visible
        ],
        page_info=page_info,
        edges=edges,
    )


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Trials, projects, products, institutions, partnerships, people and "
        "conditions whose public text holds every word of `query`, best first. A word matches "
        "as written or by its stem (Swedish, Dutch, English; accents need not be typed); no "
        "character of the query is syntax.",
        metadata={PAGE_SIZE: PAGE, SEARCH: True},
    )
    async def search(
        self,
        info: Info,
        query: Annotated[
            str, strawberry.argument(description="The words to find (at most 1,000 characters).")
        ],
        types: Annotated[
            list[SearchType] | None,
            strawberry.argument(description="Only hits of these kinds (all, without it)."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"Page size (default {PAGE.default}, most {PAGE.most})."
            ),
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this edge's cursor.")
        ] = None,
    ) -> SearchResults:
        request = search_request(viewer(info), query=query, types=types, first=first, after=after)
        async with info.context.sessions() as session:
            counted = await search_query.counts(session, request.words)
            hits = await search_query.page(
                session,
                request.words,
                entity_types=request.entity_types,
                after=request.start,
                size=request.size + 1,
            )
        return search_results(request, counted, hits)


def _hit(hit: Hit) -> SearchHit:
    highlights = [
        SearchHighlight(field=to_camel_case(name), fragment=shown)
        for name, marked in hit.highlights.items()
        if (shown := fragment(marked)) is not None
    ]
    return SearchHit(
        type=SearchType(hit.entity_type),
        score=hit.score,
        highlights=highlights,
        entity_id=hit.entity_id,
    )
