"""Canonical forms of the registry and researcher identifiers the feeds carry."""

from atmp_graph.model.normalize import canonical_eudract, compact_identifier, strip_ror_prefix
from atmp_graph.plugins.hookspecs import hookimpl


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
