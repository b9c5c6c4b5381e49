"""Every built-in feed passes the same conformance kit that partner plugins use."""

from pathlib import Path
from typing import Any, ClassVar

from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.conformance import FeedConformance

GOLDEN = Path(__file__).parent / "golden"


class TestCollaborationFeed(FeedConformance):
    feed_name = "collaboration"
    sample = sample_path("collaboration")
    golden = GOLDEN / "collaboration.json"


class TestLundSkaneFeed(FeedConformance):
    feed_name = "lund_skane"
    sample = sample_path("lund_skane")
    golden = GOLDEN / "lund_skane.json"
    duplicates_on_purpose = frozenset({("project", "LU-P-0002")})


class TestLumcFeed(FeedConformance):
    feed_name = "lumc"
    sample = sample_path("lumc")
    golden = GOLDEN / "lumc.json"


class TestClinicalTrialsGovFeed(FeedConformance):
    # The recorded API pages: the same studies as the bundled sample, with update dates.
    feed_name = "ctgov"
    sample = Path(__file__).parent / "ctgov_pages"
    golden = GOLDEN / "ctgov.json"
    invalid_config: ClassVar[dict[str, Any]] = {"page_size": 0}
