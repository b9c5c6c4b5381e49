"""All configuration, from ATMP_* environment variables, in one typed object."""

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from atmp_graph.schema.limits import QueryLimits

DEFAULT_DATABASE_URL = "sqlite:///atmp-graph.db"
_DEVELOPMENT = QueryLimits()
# What ATMP_PROFILE=production changes, for each setting not given explicitly.
PRODUCTION: dict[str, Any] = {
    "graphiql": False,
    "introspection": False,
    "field_suggestions": False,
    "max_query_depth": 10,
    "max_query_aliases": 15,
    "max_query_tokens": 1_000,
    "max_query_bytes": 10_000,
    "max_query_cost": 10_000,
    "query_timeout": 10.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATMP_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    profile: Literal["development", "production"] = Field(
        default="development",
        description="ATMP_PROFILE: `production` turns off GraphiQL, introspection and field "
        "suggestions and sets the strict query limits (each setting given explicitly still "
        "wins).",
    )
    graphiql: bool = Field(
        default=True, description="Serve GraphiQL to browsers at /graphql (production: off)."
    )
    introspection: bool = Field(
        default=True,
        description="ATMP_INTROSPECTION: answer `__schema` and `__type` (production: off).",
    )
    field_suggestions: bool = Field(
        default=True,
        description='ATMP_FIELD_SUGGESTIONS: errors suggest names ("Did you mean ...?"); '
        "off, they do not tell a stranger the schema (production: off).",
    )
    max_query_depth: int = Field(
        default=_DEVELOPMENT.max_depth,
        gt=0,
        description="ATMP_MAX_QUERY_DEPTH: the most fields nested in one another (production: 10).",
    )
    max_query_aliases: int = Field(
        default=_DEVELOPMENT.max_aliases,
        ge=0,
        description="ATMP_MAX_QUERY_ALIASES: the most aliases in one query, fragments "
        "counted each time they are spread (production: 15).",
    )
    max_query_tokens: int = Field(
        default=_DEVELOPMENT.max_tokens,
        gt=0,
        description="ATMP_MAX_QUERY_TOKENS: the most tokens (names, punctuation, values) "
        "parsed (production: 1000).",
    )
    max_query_bytes: int = Field(
        default=_DEVELOPMENT.max_bytes,
        gt=0,
        description="ATMP_MAX_QUERY_BYTES: the largest query document, in UTF-8 bytes "
        "(production: 10000).",
    )
    max_query_cost: int = Field(
        default=_DEVELOPMENT.max_cost,
        gt=0,
        description="ATMP_MAX_QUERY_COST: the most fields an answer may hold, each list "
        "counted at its `first` (or default) page size (production: 10000).",
    )
    query_timeout: float = Field(
        default=_DEVELOPMENT.timeout_seconds,
        gt=0,
        description="ATMP_QUERY_TIMEOUT: seconds a query may run before it is stopped "
        "(production: 10).",
    )
    plugins_from_entry_points: bool = Field(
        default=True, description="Load third-party feed plugins from the atmp_graph group."
    )
    graph_plugins: str | None = Field(
        default=None,
        description="ATMP_GRAPH_PLUGINS: comma-separated entry-point names; only these "
        "third-party plugins load (the built-in feeds always do).",
    )

    admin_token: SecretStr | None = Field(
        default=None,
        description="ATMP_ADMIN_TOKEN: requests bearing it may run the admin mutations "
        "(merge, split, judge suggestions, edit aliases); unset, nobody may.",
    )
    precedence: Path | None = Field(
        default=None,
        description="ATMP_PRECEDENCE: a TOML file of which feed wins each field "
        "(default: the bundled identity/precedence.toml).",
    )

    @model_validator(mode="after")
    def _apply_profile(self) -> Self:
        if self.profile == "production":
            for name, value in PRODUCTION.items():
                if name not in self.model_fields_set:
                    setattr(self, name, value)
        return self

    @property
    def query_limits(self) -> QueryLimits:
        return QueryLimits(
            max_depth=self.max_query_depth,
            max_aliases=self.max_query_aliases,
            max_tokens=self.max_query_tokens,
            max_bytes=self.max_query_bytes,
            max_cost=self.max_query_cost,
            timeout_seconds=self.query_timeout,
            introspection=self.introspection,
            field_suggestions=self.field_suggestions,
        )

    @property
    def only_plugins(self) -> set[str] | None:
        if self.graph_plugins is None:
            return None
        return {name.strip() for name in self.graph_plugins.split(",") if name.strip()}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
