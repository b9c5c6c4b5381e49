"""GraphQL view of the installed feed plugins."""

import strawberry

from atmp_graph.schema.context import Info


@strawberry.type(description="An installed feed plugin, built-in or third-party.")
class Plugin:
    name: str = strawberry.field(description="Its name (an entry-point name for third-party).")
    version: str | None = strawberry.field(description="Its distribution's version.")
    builtin: bool = strawberry.field(description="Whether it ships with ATMP Graph.")
    hooks: list[str] = strawberry.field(description="The hooks it implements.")
    feeds: list[str] = strawberry.field(description="The feeds it provides.")
    errors: list[str] = strawberry.field(
        description="Why it, or one of its hooks, was set aside; empty when it is healthy."
    )


@strawberry.type
class PluginsQuery:
    @strawberry.field(description="Every feed plugin, with its version, hooks and feeds.")
    def plugins(self, info: Info) -> list[Plugin]:
        return [
            Plugin(
                name=plugin.name,
                version=plugin.version,
                builtin=plugin.builtin,
                hooks=list(plugin.hooks),
                feeds=list(plugin.feeds),
                errors=list(plugin.errors),
            )
            for plugin in info.context.plugins
        ]
