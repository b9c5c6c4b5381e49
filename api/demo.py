"""The demo data set: the reference data and every built-in feed's bundled sample."""

from collections.abc import Iterator

import pluggy
from sqlalchemy import Engine

from plugins.ingest import IngestReport, ingest
from plugins.manager import feed_adapters


def load_demo(engine: Engine, manager: pluggy.PluginManager) -> Iterator[IngestReport]:
    """Ingest each feed's sample, reference data first; a rerun changes nothing."""
    adapters = feed_adapters(manager)
    ordered = sorted(adapters.values(), key=lambda adapter: adapter.name != "collaboration")
    for adapter in ordered:
        sample = adapter.sample()
        if sample is not None:
            yield ingest(engine, adapter, sample, hook=manager.hook)
