"""The plugin host: built-in feeds first, then plugins installed by entry point.

A broken plugin (one that fails to import, implements a hook with a wrong signature or a
misspelt name, or raises when called) is set aside with a reason that names it, the hook and
what to change (plugins/plugin_problems.py), logged once however often its hook is called; the
server and the other plugins carry on.  A record a validation hook could not check is
quarantined, never stored unchecked.
"""

import importlib.metadata
import logging
from collections.abc import Collection, Iterable, Iterator
from functools import cached_property
from typing import Any

import pluggy

from atmp_graph.plugins import hookspecs
from atmp_graph.plugins.builtin import BUILTIN_PLUGINS
from atmp_graph.plugins.contract import contract_problem
from atmp_graph.plugins.feeds import FeedAdapter
from atmp_graph.plugins.listing import VALIDATE, PluginFailure, PluginInfo, unchecked_mark
from atmp_graph.plugins.plugin_problems import (
    hook_problem,
    not_loaded,
    one_line,
    raised,
    unknown_plugins,
)
from atmp_graph.plugins.records import Record, SourceRow
from atmp_graph.plugins.report import Problem

# PluginFailure and PluginInfo live in listing.py; they are the host's answers, so importable here.
__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "build_plugin_host",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin broke the contract; the message names the plugin."""


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
        self._reported: set[tuple[str, str]] = set()

    def fail(self, plugin: str, reason: str, *, once_per: str | None = None) -> None:
        """Record (and log) why `plugin` failed, once per plugin and `once_per` (a hook called
        for every record fails once, not once a record) or per reason."""
        key = (plugin, once_per or reason)
        if key in self._reported:
            return
        self._reported.add(key)
        failure = PluginFailure(plugin, reason)
        self.failures.append(failure)
        log.warning("%s", failure.message())

    def _call(self, hook: str, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> tuple[Any, bool]:
        """One implementation's answer, and whether it answered (False: it raised)."""
        try:
            return impl.function(*(kwargs[name] for name in impl.argnames)), True
        except Exception as error:  # any error in a plugin is the plugin's
            self.fail(impl.plugin_name, raised(hook, error), once_per=hook)
            return error, False

    def call_each(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call every implementation of `hook` on its own, in registration order.

        One that raises is recorded as a failure of its plugin and skipped, so it cannot take
        the others down with it.
        """
        for impl in getattr(self.manager.hook, hook).get_hookimpls():
            result, answered = self._call(hook, impl, kwargs)
            if answered:
                yield impl.plugin_name, result

    @cached_property
    def feeds_by_plugin(self) -> dict[str, dict[str, FeedAdapter]]:
        by_plugin: dict[str, dict[str, FeedAdapter]] = {}
        providers: dict[str, str] = {}
        for plugin, adapters in self.call_each("atmp_graph_feeds"):
            for adapter in adapters or []:
                if not isinstance(adapter, FeedAdapter):
                    self.fail(
                        plugin,
                        f"atmp_graph_feeds returned {one_line(repr(adapter))}, which is not a "
                        "feed adapter: give it every attribute and method of "
                        "atmp_graph.FeedAdapter",
                    )
                elif adapter.name in providers:
                    self.fail(
                        plugin,
                        f"atmp_graph_feeds returned a feed named {adapter.name!r}, which plugin "
                        f"{providers[adapter.name]!r} provides already: rename the feed",
                    )
                else:
                    providers[adapter.name] = plugin
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

    def extra_problems(
        self, *, feed: str, row: SourceRow, record: Record | None, problems: tuple[Problem, ...]
    ) -> tuple[Problem, ...]:
        """What the plugins' validation hooks find wrong with a record, in the feed's words.

        `record` is None when the built-in checks rejected the row (`problems`): only hooks
        that name `row` are asked then, as one written for valid records alone (contract 1.0)
        would not expect None.  A hook that raises, or answers with something other than
        (field, reason) pairs, leaves the record unchecked, so it is quarantined with a reason
        that names the plugin and the error.
        """
        arguments = {"feed": feed, "row": row, "record": record, "problems": problems}
        found: list[Problem] = []
        for impl in getattr(self.manager.hook, VALIDATE).get_hookimpls():
            if record is None and "row" not in impl.argnames:
                continue
            answer, answered = self._call(VALIDATE, impl, arguments)
            pairs = _pairs(answer) if answered else None
            if pairs is None:
                if answered:
                    failure = f"{VALIDATE} returned {one_line(repr(answer))}"
                    self.fail(impl.plugin_name, f"{failure}: {NOT_PAIRS}", once_per=VALIDATE)
                else:
                    failure = f"{VALIDATE} raised {type(answer).__name__}: {one_line(answer)}"
                found.append(Problem(None, None, unchecked_mark(impl.plugin_name) + failure))
                continue
            found += [Problem(row.labels.get(field, field), None, why) for field, why in pairs]
        return tuple(found)

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


NOT_PAIRS = (
    "the records it answers so for are quarantined: make the hook return a list of "
    "(field, reason) pairs, or None"
)


def _pairs(answer: Any) -> list[tuple[str, str]] | None:
    """A validation hook's answer as (field, reason) pairs; None if it is not that."""
    if answer is None:
        return []
    if isinstance(answer, str | bytes) or not isinstance(answer, Iterable):
        return None
    pairs = []
    for pair in answer:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            return None
        pairs.append((str(pair[0]), str(pair[1])))
    return pairs


def _register(host: PluginHost, plugin: object, name: str) -> None:
    """Register one plugin, and take it out again if its hooks break the contract."""
    refused = contract_problem(plugin) or hook_problem(host.manager, plugin)
    if refused:
        host.fail(name, refused)
        return
    try:
        host.manager.register(plugin, name=name)
        host.manager.check_pending()
    except pluggy.PluginValidationError as error:
        # What hook_problem does not foresee, in pluggy's words (on one line).
        if host.manager.is_registered(plugin):
            host.manager.unregister(plugin)
        host.fail(name, one_line(error))


def build_plugin_host(
    *, load_entry_points: bool = True, only: Collection[str] | None = None
) -> PluginHost:
    """A fresh host per call, so each app, command and test has its own.

    `only` limits the plugins loaded from entry points to those names (ATMP_GRAPH_PLUGINS);
    the built-in feeds always load.  A name in `only` that is neither installed nor built in is
    a PluginError whose message names it and lists the installed plugins.
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
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if only is not None:
            unknown = unknown_plugins(
                set(only) - host.builtin, installed=(point.name for point in entry_points)
            )
            if unknown:
                raise PluginError(unknown)
        for entry_point in entry_points:
            if only is not None and entry_point.name not in only:
                continue
            host.versions[entry_point.name] = entry_point.dist.version if entry_point.dist else None
            try:
                plugin = entry_point.load()
            except Exception as error:  # report any import failure, carry on
                host.fail(entry_point.name, not_loaded(entry_point, error))
                continue
            _register(host, plugin, entry_point.name)
    # Ask for the feeds once now, so a plugin whose feed hook is broken is reported at startup.
    host.feeds()
    return host
