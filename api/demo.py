"""The demo data set: the reference data and every built-in feed's bundled sample."""

from collections.abc import Iterator

from sqlalchemy import Engine

from atmp_graph.identity.precedence import Precedence
from atmp_graph.ingest import ingest
from atmp_graph.plugins.manager import PluginHost
from atmp_graph.plugins.report import IngestReport


def load_demo(
    engine: Engine, host: PluginHost, *, precedence: Precedence | None = None
) -> Iterator[IngestReport]:
    """Ingest each built-in feed's sample, in registration order (reference data first)."""
    for adapter in host.builtin_feeds().values():
        sample = adapter.sample()
        if sample is not None:
            yield ingest(engine, adapter, sample, host=host, full=True, precedence=precedence)
