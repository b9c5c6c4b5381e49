"""Feeds that ship with ATMP Graph, registered exactly like third-party plugins."""

from types import ModuleType

from atmp_graph.plugins.builtin import collaboration, ctgov, identifiers, lumc, lund_skane

# Registration order is the demo's ingest order: the reference data first, the registry last.
BUILTIN_PLUGINS: tuple[ModuleType, ...] = (identifiers, collaboration, lund_skane, lumc, ctgov)
