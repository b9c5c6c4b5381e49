"""All configuration, from ATMP_* environment variables, in one typed object."""

import dataclasses
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from strawberry.http.websocket_origin import normalize_allowed_origins

from atmp_graph.model.database import DatabaseLimits
from atmp_graph.schema.limits import QueryLimits

DEFAULT_DATABASE_URL = "sqlite:///atmp-graph.db"
_DEVELOPMENT = QueryLimits()
# How long a quick planned read waits for one of the read pool's connections before it takes
# one of the requests' pool: a few statements' time when the machine is busy.  Waiting the
# whole pool timeout made reads fail under the load-and-faults run's heaviest phase.
READ_POOL_WAIT_SECONDS = 0.25
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
    "log_format": "json",
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

    allowed_origins: str = Field(
        default="",
        description="ATMP_ALLOWED_ORIGINS: comma-separated origins (https://app.example.org) "
        "whose pages may open a WebSocket to /graphql (those of ATMP_CORS_ORIGINS may too); a "
        "browser's handshake from any other origin is refused. Same-origin pages and "
        "non-browser clients always may.",
    )
    cors_origins: str = Field(
        default="",
        description="ATMP_CORS_ORIGINS: comma-separated origins (https://app.example.org, or * "
        "for any) whose pages may read the API's HTTP answers (CORS: GET, POST and OPTIONS, "
        "with Authorization and Content-Type), and open a WebSocket to /graphql. Empty: no "
        "CORS headers at all, so only same-origin pages read the answers.",
    )
    cors_max_age_seconds: int = Field(
        default=600,
        ge=0,
        description="ATMP_CORS_MAX_AGE_SECONDS: how long a browser may keep a preflight's "
        "answer before it asks again.",
    )

    @field_validator("cors_origins")
    @classmethod
    def _are_origins(cls, value: str) -> str:
        return _each_item(
            value,
            lambda item: normalize_allowed_origins([item]),
            is_not="an origin (scheme://host[:port], without a path) or *",
        )

    secret_key: SecretStr | None = Field(
        default=None,
        description="ATMP_SECRET_KEY: the secret API keys are hashed with and content hashes "
        "are keyed with (default: the random one the database was made with; set it to share "
        "one secret across databases, and keep it when you set it: changing it retires keys).",
    )
    precedence: Path | None = Field(
        default=None,
        description="ATMP_PRECEDENCE: a TOML file of which feed wins each field "
        "(default: the bundled identity/precedence.toml).",
    )

    persisted_only: bool = Field(
        default=False,
        description="ATMP_PERSISTED_ONLY: run only documents an administrator registered with "
        "`atmp-graph persisted add` (production); others are refused.",
    )
    redis_url: str | None = Field(
        default=None,
        description="ATMP_REDIS_URL: Redis that the workers share persisted queries and rate "
        "counters through, and the job queue (`atmp-graph worker` runs the ingests; the web "
        "workers never do); unset, each process keeps its own, and runs its ingest jobs itself.",
    )
    jobs_config: Path | None = Field(
        default=None,
        description="ATMP_JOBS_CONFIG: the jobs file (TOML): the feeds runIngest and the "
        "workers run, their sources, settings and schedules (README: Jobs); `atmp-graph "
        "worker` reads it too. Unset: runIngest runs nothing.",
    )
    redis_prefix: str = Field(
        default="atmp-graph:", description="ATMP_REDIS_PREFIX: the prefix of every Redis key."
    )
    changes_retention_days: float = Field(
        default=7,
        gt=0,
        description="ATMP_CHANGES_RETENTION_DAYS: how long the change history keeps events; "
        "a subscription may resume (`after`) from within it, and older events are pruned.",
    )
    changes_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="ATMP_CHANGES_POLL_SECONDS: how often each server process looks for new "
        "events itself, besides being woken (by Redis, or by a commit in this process): what "
        "another process wrote without Redis arrives within this.",
    )
    max_subscriptions_per_connection: int = Field(
        default=10,
        gt=0,
        description="ATMP_MAX_SUBSCRIPTIONS_PER_CONNECTION: open subscriptions one WebSocket "
        "may hold; one more is refused with an error.",
    )
    max_subscriptions_per_key: int = Field(
        default=50,
        gt=0,
        description="ATMP_MAX_SUBSCRIPTIONS_PER_KEY: open subscriptions one API key (without "
        "one: one client address) may hold in one server process.",
    )
    body_limit_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="ATMP_BODY_LIMIT_BYTES: larger request bodies are refused with 413.",
    )
    compiled_reads: bool = Field(
        default=True,
        description="ATMP_COMPILED_READS: false answers every query with the resolvers instead "
        "of the read planner's one SQL statement per root field (to compare the two).",
    )
    rate_limit: bool = Field(
        default=True, description="ATMP_RATE_LIMIT: false turns rate limiting off (load tests)."
    )
    rate_limit_window_seconds: int = Field(
        default=60, gt=0, description="ATMP_RATE_LIMIT_WINDOW_SECONDS: the length of a window."
    )
    rate_limit_per_address: int = Field(
        default=600,
        gt=0,
        description="ATMP_RATE_LIMIT_PER_ADDRESS: requests per window from one client address.",
    )
    rate_limit_per_key: int = Field(
        default=600,
        gt=0,
        description="ATMP_RATE_LIMIT_PER_KEY: requests per window with one bearer token.",
    )
    trusted_proxies: str = Field(
        default="",
        description="ATMP_TRUSTED_PROXIES: comma-separated addresses or CIDRs of reverse "
        "proxies whose X-Forwarded-For names the client; from others it is ignored.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        return _each_item(
            value,
            lambda item: ipaddress.ip_network(item, strict=False),
            is_not="an IP address or CIDR",
        )

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(item, strict=False)
            for item in _comma_separated(self.trusted_proxies)
        ]

    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="ATMP_LOG_LEVEL: the least severe log line written; `info` writes one line "
        "per request, `warning` none (only problems).",
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="ATMP_LOG_FORMAT: `json`, one JSON object per line (production), or "
        "`console`, aligned text for a terminal (development).",
    )
    tracing: bool = Field(
        default=False,
        description="ATMP_TRACING: true sends OpenTelemetry traces of requests and SQL "
        "(OTLP over HTTP, configured by the standard OTEL_* variables); setting "
        "OTEL_TRACES_EXPORTER or an OTEL_EXPORTER_OTLP_*ENDPOINT switches it on too.",
    )
    shutdown_timeout_seconds: int = Field(
        default=30,
        gt=0,
        description="ATMP_SHUTDOWN_TIMEOUT_SECONDS: on SIGTERM, how long `serve` lets requests "
        "in flight finish before it closes their connections.",
    )

    db_connect_timeout_seconds: int = Field(
        default=5,
        ge=2,
        description="ATMP_DB_CONNECT_TIMEOUT_SECONDS: how long opening a PostgreSQL connection "
        "may take (libpq's connect_timeout, at least 2 s), and how long the pool's check of an "
        "idle connection may wait for an answer.",
    )
    db_statement_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="ATMP_DB_STATEMENT_TIMEOUT_MS: PostgreSQL ends an API statement that runs "
        "longer (0: no limit); a server that has not answered 2 s after it is taken for "
        "frozen and the request fails.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="ATMP_DB_POOL_SIZE: PostgreSQL connections each API worker keeps open.",
    )
    db_read_pool_size: int = Field(
        default=3,
        ge=1,
        description="ATMP_DB_READ_POOL_SIZE: PostgreSQL connections each API worker keeps for "
        "the read planner's quick statements (a page or a node without totalCount); a few "
        "taking turns keep PostgreSQL's caches warm. Searches, aggregates, counts and "
        "everything else use the ATMP_DB_POOL_SIZE ones.",
    )
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="ATMP_DB_MAX_OVERFLOW: connections a worker may open beyond the pool under "
        "load; each is closed again when returned, so a busy service keeps reconnecting.",
    )
    db_pool_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="ATMP_DB_POOL_TIMEOUT_SECONDS: how long a request waits for a free "
        "connection before it fails with 'the database is unavailable'.",
    )
    db_sqlite_busy_timeout_ms: int = Field(
        default=5_000,
        ge=0,
        description="ATMP_DB_SQLITE_BUSY_TIMEOUT_MS: how long SQLite waits for another "
        "writer's lock before it gives up.",
    )

    @property
    def database_limits(self) -> DatabaseLimits:
        return DatabaseLimits(
            connect_timeout_seconds=self.db_connect_timeout_seconds,
            statement_timeout_ms=self.db_statement_timeout_ms or None,
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            pool_timeout_seconds=self.db_pool_timeout_seconds,
            sqlite_busy_timeout_ms=self.db_sqlite_busy_timeout_ms,
        )

    @property
    def read_database_limits(self) -> DatabaseLimits:
        """The read planner's pool: its own size, no overflow, which would defeat it, and a
        short wait, after which a quick read runs on the requests' pool instead."""
        return dataclasses.replace(
            self.database_limits,
            pool_size=self.db_read_pool_size,
            max_overflow=0,
            pool_timeout_seconds=min(READ_POOL_WAIT_SECONDS, self.db_pool_timeout_seconds),
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
    def cors_origin_list(self) -> list[str]:
        """The CORS origins as a browser sends them (lowercase, no default port)."""
        return sorted(normalize_allowed_origins(_comma_separated(self.cors_origins)))

    @property
    def websocket_origins(self) -> list[str]:
        """The origins whose pages may open a WebSocket: a page that may read the API's
        answers over HTTP may subscribe too."""
        return [*_comma_separated(self.allowed_origins), *self.cors_origin_list]

    @property
    def only_plugins(self) -> set[str] | None:
        if self.graph_plugins is None:
            return None
        return {name.strip() for name in self.graph_plugins.split(",") if name.strip()}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _comma_separated(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _each_item(value: str, check: Callable[[str], object], *, is_not: str) -> str:
    """`value` if `check` takes each of its comma-separated items, else why not, naming it."""
    for item in _comma_separated(value):
        try:
            check(item)
        except ValueError:
            raise ValueError(f"{item!r} is not {is_not}") from None
    return value
