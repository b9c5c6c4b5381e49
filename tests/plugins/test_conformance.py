"""Every built-in feed passes the same conformance kit that partner plugins use."""

from pathlib import Path

from plugins.builtin.samples import sample_path
from plugins.conformance import FeedConformance

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
