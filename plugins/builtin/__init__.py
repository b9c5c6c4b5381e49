"""Feeds that ship with ATMP Graph, registered exactly like third-party plugins."""

from types import ModuleType

from plugins.builtin import collaboration, identifiers, lund_skane

BUILTIN_PLUGINS: tuple[ModuleType, ...] = (identifiers, collaboration, lund_skane)
