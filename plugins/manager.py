"""The plugin host: built-in feeds first, then plugins installed by entry point.

A broken plugin (one that fails to import, implements a hook with a wrong signature or a
misspelt name, or raises when called) is set aside with a reason that names it; the server and
the other plugins carry on.
"""

import importlib.metadata
import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pluggy

from atmp_graph.plugins import hookspecs
from atmp_graph.plugins.builtin import BUILTIN_PLUGINS
from atmp_graph.plugins.contract import contract_problem
from atmp_graph.plugins.feeds import FeedAdapter

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin broke the contract; the message names the plugin."""


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    reason: str

    def message(self) -> str:
        return f"plugin {self.plugin!r}: {self.reason}"


@dataclass(frozen=True)
class PluginInfo:
    """What `atmp-graph plugins` and the GraphQL `plugins` query show of one plugin."""

    name: str
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]
    feeds: tuple[str, ...]
    errors: tuple[str, ...] = ()


def _own_version() -> str | None:
    try:
        return importlib.metadata.version("atmp-graph")
    except importlib.metadata.PackageNotFoundError:
        return None


class PluginHost:
    """The pluggy manager, plus the record of which plugins failed and why."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self.failures: list[PluginFailure] = []
        self.versions: dict[str, str | None] = {}
        self.builtin: set[str] = set()

    def fail(self, plugin: str, reason: str) -> None:
        failure = PluginFailure(plugin, reason)
        self.failures.append(failure)
        log.warning("%s", failure.message())

    def call_each(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call every implementation of `hook` on its own, in registration order.

        One that raises is recorded as a failure of its plugin and skipped, so it cannot take
        the others down with it.
        """
        for impl in getattr(self.manager.hook, hook).get_hookimpls():
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as error:  # any error in a plugin is the plugin's
                self.fail(impl.plugin_name, f"{hook} raised {type(error).__name__}: {error}")
                continue
            yield impl.plugin_name, result

    @cached_property
    def feeds_by_plugin(self) -> dict[str, dict[str, FeedAdapter]]:
        by_plugin: dict[str, dict[str, FeedAdapter]] = {}
        taken: set[str] = set()
        for plugin, adapters in self.call_each("atmp_graph_feeds"):
            for adapter in adapters or []:
                if not isinstance(adapter, FeedAdapter):
                    self.fail(plugin, f"{adapter!r} is not a feed adapter (see plugins/feeds.py)")
                elif adapter.name in taken:
                    self.fail(
                        plugin, f"another plugin already provides a feed named {adapter.name!r}"
                    )
                else:
                    taken.add(adapter.name)
                    by_plugin.setdefault(plugin, {})[adapter.name] = adapter
        return by_plugin

    def feeds(self) -> dict[str, FeedAdapter]:
        """Every feed adapter the plugins offer, by feed name."""
        return {
            name: adapter
            for adapters in self.feeds_by_plugin.values()
            for name, adapter in adapters.items()
        }

    def builtin_feeds(self) -> dict[str, FeedAdapter]:
        """The feeds that ship with ATMP Graph, in registration order."""
        return {
            name: adapter
            for plugin, adapters in self.feeds_by_plugin.items()
            if plugin in self.builtin
            for name, adapter in adapters.items()
        }

    def claim(self, source: str) -> str | None:
        """The feed a plugin claims `source` for, the first plugin that answers winning."""
        for _plugin, feed in self.call_each("atmp_graph_claim_source", source=source):
            if feed:
                return str(feed)
        return None

    def extra_problems(self, feed: str, record: Any) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for _plugin, found in self.call_each(
            "atmp_graph_validate_record", feed=feed, record=record
        ):
            problems += [(str(field), str(reason)) for field, reason in found or []]
        return problems

    def normalize_identifier(self, scheme: str, value: str) -> str:
        for _plugin, normal in self.call_each(
            "atmp_graph_normalize_identifier", scheme=scheme, value=value
        ):
            if normal:
                return str(normal)
        return value

    def after_ingest(self, report: Any) -> None:
        for _ in self.call_each("atmp_graph_after_ingest", report=report):
            pass

    def describe(self) -> list[PluginInfo]:
        """Every plugin, loaded or broken, with its version, hooks and feeds."""
        feeds = self.feeds_by_plugin
        infos = [
            PluginInfo(
                name=name,
                version=self.versions.get(name),
                builtin=name in self.builtin,
                hooks=tuple(
                    sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or [])
                ),
                feeds=tuple(sorted(feeds.get(name, {}))),
                errors=tuple(f.reason for f in self.failures if f.plugin == name),
            )
            for name, plugin in self.manager.list_name_plugin()
        ]
        loaded = {info.name for info in infos}
        broken = {f.plugin for f in self.failures} - loaded
        infos += [
            PluginInfo(
                name=name,
                version=self.versions.get(name),
                builtin=False,
                hooks=(),
                feeds=(),
                errors=tuple(f.reason for f in self.failures if f.plugin == name),
            )
            for name in sorted(broken)
        ]
        return infos


def _register(host: PluginHost, plugin: object, name: str) -> None:
    """Register one plugin, and take it out again if its hooks break the contract."""
    refused = contract_problem(plugin)
    if refused:
        host.fail(name, refused)
        return
    try:
        host.manager.register(plugin, name=name)
        host.manager.check_pending()
    except pluggy.PluginValidationError as error:
        if host.manager.is_registered(plugin):
            host.manager.unregister(plugin)
        host.fail(name, str(error))


def build_plugin_host(
    *, load_entry_points: bool = True, only: Collection[str] | None = None
) -> PluginHost:
    """A fresh host per call, so each app, command and test has its own.

    `only` limits the plugins loaded from entry points to those names (ATMP_GRAPH_PLUGINS);
    the built-in feeds always load.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    for plugin in BUILTIN_PLUGINS:
        name = plugin.__name__.rsplit(".", 1)[-1]
        _register(host, plugin, name)
        host.builtin.add(name)
        host.versions[name] = _own_version()
    if load_entry_points:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if only is not None and entry_point.name not in only:
                continue
            host.versions[entry_point.name] = entry_point.dist.version if entry_point.dist else None
            try:
                plugin = entry_point.load()
            except Exception as error:  # report any import failure, carry on
                host.fail(entry_point.name, f"cannot be loaded: {type(error).__name__}: {error}")
                continue
            _register(host, plugin, entry_point.name)
    # Ask for the feeds once now, so a plugin whose feed hook is broken is reported at startup.
    host.feeds()
    return host
