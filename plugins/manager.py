"""Build the plugin manager: built-in feeds first, then plugins installed by entry point."""

from collections.abc import Mapping

import pluggy

from plugins import hookspecs
from plugins.builtin import BUILTIN_PLUGINS
from plugins.feeds import FeedAdapter

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME


class PluginError(RuntimeError):
    """A plugin broke the contract; the message names the plugin."""


def build_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager per call, so each app, command and test has its own."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for plugin in BUILTIN_PLUGINS:
        manager.register(plugin, name=plugin.__name__.rsplit(".", 1)[-1])
    if load_entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"plugin {error.plugin!r}: {error}") from error
    return manager


def feed_adapters(manager: pluggy.PluginManager) -> Mapping[str, FeedAdapter]:
    """Every feed adapter the plugins offer, by name; two feeds may not share a name."""
    adapters: dict[str, FeedAdapter] = {}
    for plugin_adapters in manager.hook.atmp_graph_feeds():
        for adapter in plugin_adapters:
            if not isinstance(adapter, FeedAdapter):
                raise PluginError(f"{adapter!r} is not a feed adapter (see plugins/feeds.py)")
            if adapter.name in adapters:
                raise PluginError(f"two plugins provide a feed named {adapter.name!r}")
            adapters[adapter.name] = adapter
    return adapters
