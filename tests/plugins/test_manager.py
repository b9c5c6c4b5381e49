"""The plugin host: built-in feeds registered like any plugin, contract breaches named."""

import pytest

from plugins.builtin.lund_skane import LundSkaneFeed
from plugins.hookspecs import hookimpl
from plugins.manager import PluginError, build_plugin_manager, feed_adapters


def test_builtin_feeds_are_registered_as_plugins() -> None:
    manager = build_plugin_manager(load_entry_points=False)

    assert {name for name, _ in manager.list_name_plugin()} >= {"collaboration", "lund_skane"}
    assert sorted(feed_adapters(manager)) == ["collaboration", "lund_skane"]


def test_each_call_builds_a_fresh_manager() -> None:
    assert build_plugin_manager(load_entry_points=False) is not build_plugin_manager(
        load_entry_points=False
    )


class MisspeltHook:
    @hookimpl
    def atmp_graph_feed(self) -> list[object]:  # the hook is atmp_graph_feeds
        return []


class NotAnAdapter:
    @hookimpl
    def atmp_graph_feeds(self) -> list[object]:
        return [object()]


class DuplicateFeed:
    @hookimpl
    def atmp_graph_feeds(self) -> list[object]:
        return [LundSkaneFeed()]


def test_misspelt_hook_fails_at_once_naming_the_plugin() -> None:
    manager = build_plugin_manager(load_entry_points=False)
    manager.register(MisspeltHook(), name="misspelt")

    with pytest.raises(Exception, match="atmp_graph_feed"):
        manager.check_pending()


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (NotAnAdapter(), "is not a feed adapter"),
        (DuplicateFeed(), "two plugins provide a feed named 'lund_skane'"),
    ],
)
def test_bad_feed_adapters_are_refused(plugin: object, message: str) -> None:
    manager = build_plugin_manager(load_entry_points=False)
    manager.register(plugin)

    with pytest.raises(PluginError, match=message):
        feed_adapters(manager)
