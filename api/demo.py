"""The demo data set: the reference data and every installed feed's bundled sample."""

from collections.abc import Iterator

from sqlalchemy import Engine

from atmp_graph.identity.precedence import Precedence
from atmp_graph.ingest import ingest
from atmp_graph.plugins.manager import PluginHost
from atmp_graph.plugins.report import IngestReport


def load_demo(
    engine: Engine, host: PluginHost, *, precedence: Precedence | None = None
) -> Iterator[IngestReport]:
    """Ingest the sample of each feed `host` serves, in registration order: the built-in feeds
    (reference data first), then installed plugins' feeds, so a partner sees their own sample
    in `serve --demo`.  A host built without entry points gives the built-in demo alone, which
    the tests of examples/queries use, so their answers do not depend on what is installed."""
    for adapter in host.feeds().values():
        sample = adapter.sample()
        if sample is not None:
            yield ingest(engine, adapter, sample, host=host, full=True, precedence=precedence)
