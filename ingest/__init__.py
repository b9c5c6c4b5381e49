"""The ingest engine: a run, its batches, writers, bulk writes, references, claims, feed state."""

from atmp_graph.ingest.run import BATCH_SIZE, MAX_RETIRED_SHARE, IngestError, ingest

__all__ = ["BATCH_SIZE", "MAX_RETIRED_SHARE", "IngestError", "ingest"]
