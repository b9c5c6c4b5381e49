"""The ranked query over the search index (model/search_index.py), for each database.

A query is words, split on white space; a node matches when each word is among its fields'
words, exactly or stemmed.  Nothing the client typed is ever query syntax: on PostgreSQL each
word goes to `plainto_tsquery` as a bound value, under every language's configuration (the
query's own language is unknown) and `simple`; on SQLite each is a quoted FTS5 string,
or'ed with its Swedish, Dutch and English stems as prefixes (FTS5 stems nothing, and a
Snowball stem is the start of the words it stems from: `sjukdom*` finds sjukdomar).

Order: first the hits one of whose fields is the whole query (an NCT id, a code, a name), then
by score: PostgreSQL's ts_rank_cd over the document's length, SQLite's bm25 negated, so that
higher is better on both (each comparable only within one search); then by kind and id.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from atmp_graph.model import search_sqlite
from atmp_graph.model.search_documents import (
    CONFIGURATIONS,
    FIELDS,
    TABLE,
    WEIGHTS,
    configuration,
)

# What a highlighted field's matched words are wrapped in (private-use characters, which no
# feed's text holds); schema/search.py turns them into <mark> tags.
START, STOP = "\ue000", "\ue001"
_STEMMERS = [snowballstemmer.stemmer(language) for language in ("swedish", "dutch", "english")]
# A stem this short, as a prefix, would find nearly everything.
_SHORTEST_STEM = 3


@dataclass(frozen=True)
class After:
    """Where the previous page ended: its last hit's place in the order."""

    exact: bool
    score: float
    entity_type: str
    entity_id: int


@dataclass(frozen=True)
class Hit:
    entity_type: str
    entity_id: int
    # Whether one of its fields is the whole query (an NCT id, a name): such hits come first.
    exact: bool
    score: float
    # Each index field that holds matched words: its text, with START and STOP around them.
    highlights: dict[str, str]


def words(query: str) -> list[str]:
    """The query's words: what is between white space and holds a letter or a digit."""
    return [word for word in query.split() if any(c.isalnum() for c in word)]


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _stems(word: str) -> set[str]:
    if not word.isalpha():
        return set()
    lowered = word.lower()
    return {
        stem for stemmer in _STEMMERS if len(stem := stemmer.stemWord(lowered)) >= _SHORTEST_STEM
    }


def fts5_match(query_words: Sequence[str]) -> str:
    """The FTS5 MATCH expression: every word, as written or by one of its stems."""
    terms = []
    for word in query_words:
        alternatives = [_fts5_string(word), *(f"{_fts5_string(s)}*" for s in sorted(_stems(word)))]
        terms.append(f"({' OR '.join(alternatives)})")
    return " AND ".join(terms)


def _tsquery(count: int) -> str:
    """PostgreSQL's tsquery of words :w0 … : each under every configuration, all of them.

    A subquery, so it is made once per statement: a prepared statement's generic plan (the
    driver prepares one run often) would otherwise make it again for every document."""
    return "SELECT " + " && ".join(
        "("
        + " || ".join(
            f"plainto_tsquery('{configuration(language)}', :w{n})" for language in CONFIGURATIONS
        )
        + ")"
        for n in range(count)
    )


def _matching(query_words: Sequence[str], dialect: str) -> tuple[str, str, str]:
    """(the FROM and WHERE of the matching documents, as `s`; the score; whether a field is
    the whole query)."""
    if dialect == "sqlite":
        # FTS5 knows its table by name only (MATCH and bm25 take no alias); each field's text
        # ends in the separator.
        weights = ", ".join(["0", "0", "0", *(str(weight) for weight in WEIGHTS.values())])
        texts = " || ".join(w.lower() for w in WEIGHTS)
        return (
            f"FROM (SELECT rowid AS rid, entity_type, entity_id, -bm25({TABLE}, {weights}) "
            f"AS score, instr(char(31) || lower({texts}), char(31) || :exact || char(31)) > 0 "
            f"AS exact FROM {TABLE} WHERE {TABLE} MATCH :match) s WHERE 1 = 1",
            "s.score",
            "s.exact",
        )
    query = _tsquery(len(query_words))
    return (
        f"FROM {TABLE} s WHERE s.document @@ ({query})",
        # ts_rank_cd counts a word under each configuration that has it; divided by the
        # document's length, a short name that is all match ranks first, as bm25 ranks it.
        f"CAST(ts_rank_cd(s.document, ({query}), 2) AS double precision)",
        f"coalesce(:exact IN ({', '.join(f'lower(s.{name})' for name in FIELDS)}), false)",
    )


@dataclass(frozen=True)
class SearchSql:
    """A statement of the search as text, with its bound values: what the resolvers execute,
    and what the read planner reads as a subquery (schema/planner/search_sql.py)."""

    sql: str
    parameters: dict[str, Any]
    # The bound value that is a list (an IN list of as many values).
    expanding: tuple[str, ...] = ()


def _word_parameters(query_words: Sequence[str], dialect: str) -> dict[str, Any]:
    if dialect == "sqlite":
        return {"match": fts5_match(query_words)}
    return {f"w{n}": word for n, word in enumerate(query_words)}


def _exact(query_words: Sequence[str]) -> dict[str, Any]:
    return {"exact": " ".join(query_words).lower()}


def counts_sql(query_words: Sequence[str], dialect: str) -> SearchSql:
    """How many nodes of each kind match: rows of (entity_type, n)."""
    if dialect == "sqlite":
        # Counting needs no score.
        sql = (
            f"SELECT entity_type, count(*) AS n FROM {TABLE} WHERE {TABLE} MATCH :match "
            "GROUP BY entity_type"
        )
    else:
        matching, _, _ = _matching(query_words, dialect)
        sql = f"SELECT s.entity_type, count(*) AS n {matching} GROUP BY s.entity_type"
    return SearchSql(sql, _word_parameters(query_words, dialect))


async def counts(session: AsyncSession, query_words: Sequence[str]) -> dict[str, int]:
    """How many nodes of each kind match."""
    found = counts_sql(query_words, session.get_bind().dialect.name)
    rows = await session.execute(text(found.sql), found.parameters)
    return {str(entity_type): int(number) for entity_type, number in rows}


def highlight_count(dialect: str) -> int:
    """How many highlight columns (h0, h1, …) a page's rows have."""
    return 1 + len(WEIGHTS) if dialect == "sqlite" else len(FIELDS)


def _highlights(dialect: str, query_words: Sequence[str]) -> list[str]:
    if dialect == "sqlite":
        first = search_sqlite.COLUMNS.index("fields")
        return [
            f"{TABLE}.fields",
            *(
                f"highlight({TABLE}, {first + n}, :start, :stop)"
                for n in range(1, len(WEIGHTS) + 1)
            ),
        ]
    query = _tsquery(len(query_words))
    return [f"ts_headline(s.language, s.{name}, ({query}), :options)" for name in FIELDS]


def _marked(dialect: str, values: Sequence[Any]) -> dict[str, str]:
    """Each field that holds a matched word, with its text marked."""
    if dialect == "sqlite":
        fields, *texts = values
        split: dict[str, str] = {}
        for n, marked in enumerate(texts):
            split |= search_sqlite.split_fields(fields, n, marked or "")
        by_field = split
    else:
        by_field = dict(zip(FIELDS, values, strict=True))
    # In FIELDS order, whatever the columns' order.
    return {
        name: by_field[name]
        for name in FIELDS
        if by_field.get(name) is not None and START in by_field[name]
    }


def page_sql(
    query_words: Sequence[str],
    dialect: str,
    *,
    entity_types: Sequence[str],
    after: After | None,
    size: int,
) -> SearchSql:
    """The best `size` hits of these kinds after `after`, by score, then kind, then id: rows
    of (entity_type, entity_id, exact, score, h0, h1, …), in that order."""
    matching, score, exact = _matching(query_words, dialect)
    parameters = (
        _word_parameters(query_words, dialect)
        | _exact(query_words)
        | {"types": list(entity_types), "size": size}
    )
    keyset = ""
    if after is not None:
        keyset = (
            "WHERE exact < :after_exact OR (exact = :after_exact AND (score < :score "
            "OR (score = :score AND (entity_type > :type "
            "OR (entity_type = :type AND entity_id > :id)))))"
        )
        parameters |= {
            "after_exact": after.exact,
            "score": after.score,
            "type": after.entity_type,
            "id": after.entity_id,
        }
    key = "s.rid, " if dialect == "sqlite" else ""
    ranked = (
        f"SELECT {key}s.entity_type, s.entity_id, {exact} AS exact, {score} AS score "
        f"{matching} AND s.entity_type IN :types"
    )
    best = (
        f"SELECT * FROM ({ranked}) ranked {keyset} "
        "ORDER BY exact DESC, score DESC, entity_type, entity_id LIMIT :size"
    )
    # Highlights for the page only: the best rows first, then their text marked.
    highlights = ", ".join(
        f"{marked} AS h{n}" for n, marked in enumerate(_highlights(dialect, query_words))
    )
    hit = "p.entity_type, p.entity_id, p.exact, p.score"
    order = "ORDER BY p.exact DESC, p.score DESC, p.entity_type, p.entity_id"
    if dialect == "sqlite":
        sql = (
            f"SELECT {hit}, {highlights} FROM {TABLE} JOIN ({best}) p "
            f"ON {TABLE}.rowid = p.rid WHERE {TABLE} MATCH :match {order}"
        )
        parameters |= {"start": START, "stop": STOP}
    else:
        sql = (
            f"SELECT {hit}, {highlights} FROM ({best}) p JOIN {TABLE} s "
            f"ON s.entity_type = p.entity_type AND s.entity_id = p.entity_id {order}"
        )
        parameters["options"] = f'HighlightAll=true, StartSel="{START}", StopSel="{STOP}"'
    return SearchSql(sql, parameters, expanding=("types",))


def hit(dialect: str, row: Sequence[Any]) -> Hit:
    """A row of `page_sql` as a hit (its score as the database's double)."""
    return Hit(
        entity_type=row[0],
        entity_id=row[1],
        exact=bool(row[2]),
        score=float(row[3]),
        highlights=_marked(dialect, row[4:]),
    )


async def page(
    session: AsyncSession,
    query_words: Sequence[str],
    *,
    entity_types: Sequence[str],
    after: After | None,
    size: int,
) -> list[Hit]:
    """The best `size` hits of these kinds after `after`, by score, then kind, then id."""
    if not entity_types or size == 0:
        return []
    dialect = session.get_bind().dialect.name
    found = page_sql(query_words, dialect, entity_types=entity_types, after=after, size=size)
    statement = text(found.sql).bindparams(
        *(bindparam(name, expanding=True) for name in found.expanding)
    )
    rows = await session.execute(statement, found.parameters)
    return [hit(dialect, row) for row in rows]
