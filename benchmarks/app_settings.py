"""The settings a benchmark's app runs with."""

from typing import Any

from atmp_graph.api.settings import Settings


def measured_settings(url: str, **changes: Any) -> Settings:
    """No rate limit (these are load tests) and no line logged per request: writing it is not
    the API's work being measured, and the peer writes none."""
    return Settings(database_url=url, rate_limit=False, log_level="warning", **changes)
