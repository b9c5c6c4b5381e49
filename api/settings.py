"""All configuration, from ATMP_* environment variables, in one typed object."""

from pathlib import Path

from pydantic import Field, SecretStr
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

    @property
    def only_plugins(self) -> set[str] | None:
        if self.graph_plugins is None:
            return None
        return {name.strip() for name in self.graph_plugins.split(",") if name.strip()}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
