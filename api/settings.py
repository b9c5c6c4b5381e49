"""All configuration, from ATMP_* environment variables, in one typed object."""

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///atmp-graph.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATMP_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    graphiql: bool = Field(default=True, description="Serve GraphiQL to browsers at /graphql.")
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

    persisted_only: bool = Field(
        default=False,
        description="ATMP_PERSISTED_ONLY: run only documents an administrator registered with "
        "`atmp-graph persisted add` (production); others are refused.",
    )
    redis_url: str | None = Field(
        default=None,
        description="ATMP_REDIS_URL: Redis that the workers share persisted queries and rate "
        "counters through; unset, each process keeps its own.",
    )
    redis_prefix: str = Field(
        default="atmp-graph:", description="ATMP_REDIS_PREFIX: the prefix of every Redis key."
    )
    body_limit_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="ATMP_BODY_LIMIT_BYTES: larger request bodies are refused with 413.",
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
        for item in _comma_separated(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR") from None
        return value

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(item, strict=False)
            for item in _comma_separated(self.trusted_proxies)
        ]

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
