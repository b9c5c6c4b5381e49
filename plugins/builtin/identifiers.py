"""Canonical forms of the registry and researcher identifiers the feeds carry."""

from atmp_graph import canonical_eudract, compact_identifier, hookimpl, strip_ror_prefix

ATMP_GRAPH_CONTRACT = "1.0"


@hookimpl
def atmp_graph_normalize_identifier(scheme: str, value: str) -> str | None:
    scheme = scheme.lower()
    if scheme in {"nct", "euct", "orcid"}:
        return compact_identifier(value)
    if scheme == "eudract":
        return canonical_eudract(value)
    if scheme == "ror":
        return strip_ror_prefix(value)
    return None
