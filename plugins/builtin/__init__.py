"""Feeds that ship with ATMP Graph, registered exactly like third-party plugins."""

from types import ModuleType

from plugins.builtin import collaboration, lund_skane

BUILTIN_PLUGINS: tuple[ModuleType, ...] = (collaboration, lund_skane)
