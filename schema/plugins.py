"""GraphQL view of the installed feed plugins."""

from typing import Any

import strawberry

from atmp_graph.model.quarantine import latest_quarantine_containing
from atmp_graph.schema.context import Info


@strawberry.type(description="An installed feed plugin, built-in or third-party.")
class Plugin:
    name: str = strawberry.field(description="Its name (an entry-point name for third-party).")
    version: str | None = strawberry.field(
        description="Its distribution's version (curators and admins)."
    )
    builtin: bool = strawberry.field(description="Whether it ships with ATMP Graph.")
    hooks: list[str] | None = strawberry.field(
        description="The hooks it implements (curators and admins)."
    )
    feeds: list[str] = strawberry.field(description="The feeds it provides.")
    errors: list[str] | None = strawberry.field(
        description="Why it, or one of its hooks, was set aside (also a validation hook that "
        "raised in a feed's latest ingest); empty when it is healthy (curators and admins)."
    )


@strawberry.type
class PluginsQuery:
    @strawberry.field(description="Every feed plugin, with its version, hooks and feeds.")
    async def plugins(self, info: Info) -> list[Plugin]:
        listed = []
        for plugin in info.context.plugins:
            listed.append(await _with_unchecked_records(info, plugin))
        return [
            Plugin(
                name=plugin.name,
                version=plugin.version,
                builtin=plugin.builtin,
                hooks=list(plugin.hooks),
                feeds=list(plugin.feeds),
                errors=list(plugin.errors),
            )
            for plugin in listed
        ]


async def _with_unchecked_records(info: Info, plugin: Any) -> Any:
    """The plugin's listing plus what its validation hook raised on in the latest ingests:
    those ran in other processes, and left their trace in the quarantine."""
    mark = plugin.unchecked_mark()
    if mark is None:
        return plugin
    async with info.context.sessions() as session:
        rows = await session.execute(latest_quarantine_containing(mark))
    return plugin.with_unchecked([(feed, run, count, reason) for feed, run, count, reason in rows])
