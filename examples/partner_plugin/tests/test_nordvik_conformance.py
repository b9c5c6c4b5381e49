"""The Nordvik plugin keeps the ATMP Graph contract: the whole proof is these lines."""

from pathlib import Path

from atmp_graph.plugins.conformance import FeedConformance
from atmp_nordvik.plugin import SAMPLE


class TestNordvikFeed(FeedConformance):
    feed_name = "nordvik"
    sample = SAMPLE
    golden = Path(__file__).with_name("golden.json")
