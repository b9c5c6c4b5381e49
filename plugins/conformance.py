"""The conformance kit: prove a feed plugin keeps the contract, in a few lines of pytest.

    from atmp_graph.plugins.conformance import FeedConformance

    class TestMyFeed(FeedConformance):
        feed_name = "my_feed"                      # the feed your plugin provides
        sample = Path(__file__).parent / "sample"   # an export to read
        golden = Path(__file__).parent / "golden.json"

Each `test_*` method below becomes a test of your plugin.  The golden file holds what your
sample must read as: every record, validated, or the reasons it is quarantined.  Write it (and
after an intended change, rewrite it) with `ATMP_UPDATE_GOLDEN=1 pytest`, then read it.
"""

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest

from atmp_graph.plugins.feeds import ConfigError, FeedAdapter, feed_config
from atmp_graph.plugins.manager import PluginHost, build_plugin_host
from atmp_graph.plugins.records import RECORD_TYPES, Identifier, Record, SourceRow
from atmp_graph.plugins.validation import validate_row

FUTURE = "9999-12-31T23:59:59+00:00"


def _read(
    adapter: FeedAdapter, source: str, state: dict[str, str] | None = None
) -> list[SourceRow]:
    config = feed_config(adapter, {})
    return list(adapter.read(source, state=state or {}, config=config))


def _not_provided(feed: str, host: PluginHost) -> str:
    """Why the kit cannot find the feed, with what the host said of the plugins it set aside."""
    third_party = [f.message() for f in host.failures if f.plugin not in host.builtin]
    if third_party:
        why = "the host set these plugins aside: " + "; ".join(third_party)
    else:
        why = (
            f"the feeds are {', '.join(sorted(host.feeds()))}: install your plugin "
            "(pip install -e .) and make its atmp_graph_feeds return an adapter with this name"
        )
    return f"no installed plugin provides the feed {feed!r}; {why}"


def describe_rows(rows: list[SourceRow], *, feed: str, host: PluginHost) -> list[dict[str, Any]]:
    """What the golden file holds: each row as its validated record or its problems."""
    described = []
    for row in rows:
        outcome = validate_row(row, feed=feed, host=host)
        entry: dict[str, Any] = {"entity": row.entity, "source_id": row.source_id}
        if isinstance(outcome, Record):
            entry["record"] = outcome.model_dump(mode="json", exclude={"source_id"})
            entry["identifiers"] = [[i.scheme, i.value] for i in row.identifiers]
        else:
            entry["problems"] = [problem.sentence() for problem in outcome]
        described.append(entry)
    return described


class FeedConformance:
    """Subclass as `Test<YourFeed>` and set the three class attributes."""

    feed_name: ClassVar[str]
    sample: ClassVar[str | Path]
    golden: ClassVar[Path]
    # A configuration your feed must refuse; by default, one with a key it does not know.
    invalid_config: ClassVar[dict[str, Any]] = {"no_such_setting": True}
    # (entity, source id) pairs your sample repeats with different content on purpose (the
    # ingest quarantines the second); a real export should have none.
    duplicates_on_purpose: ClassVar[frozenset[tuple[str, str]]] = frozenset()

    @pytest.fixture(scope="class")
    @classmethod
    def host(cls) -> PluginHost:
        return build_plugin_host()

    @pytest.fixture(scope="class")
    @classmethod
    def adapter(cls, host: PluginHost) -> FeedAdapter:
        feeds = host.feeds()
        assert cls.feed_name in feeds, _not_provided(cls.feed_name, host)
        return feeds[cls.feed_name]

    @pytest.fixture(scope="class")
    @classmethod
    def rows(cls, adapter: FeedAdapter) -> list[SourceRow]:
        return _read(adapter, str(cls.sample))

    def test_plugin_is_installed_and_listed(self, host: PluginHost) -> None:
        providers = [info for info in host.describe() if self.feed_name in info.feeds]
        assert providers, _not_provided(self.feed_name, host)
        (provider,) = providers  # the host gives each feed name to one plugin only
        assert provider.errors == (), (
            f"plugin {provider.name!r} provides {self.feed_name!r}, but the host reports: "
            + "; ".join(provider.errors)
        )
        assert provider.version, f"plugin {provider.name!r}: its distribution has no version"

    def test_invalid_configuration_is_rejected(self, adapter: FeedAdapter) -> None:
        with pytest.raises(ConfigError, match=adapter.name):
            feed_config(adapter, self.invalid_config)

    def test_streams_declare_a_primary_key_and_cursor(self, adapter: FeedAdapter) -> None:
        assert adapter.streams, "the feed declares no streams"
        for stream in adapter.streams:
            assert stream.entity in RECORD_TYPES, f"{stream.entity!r} is not a record type"
            assert stream.primary_key, f"stream {stream.entity!r} has no primary key"
            assert hasattr(stream, "cursor_field")  # None declares a feed that is read whole

    def test_rows_belong_to_declared_streams(
        self, adapter: FeedAdapter, rows: list[SourceRow]
    ) -> None:
        assert rows, "the sample yields no records"
        declared = {stream.entity for stream in adapter.streams}
        assert {row.entity for row in rows} <= declared

    def test_every_record_validates_or_says_why_not(
        self, host: PluginHost, rows: list[SourceRow]
    ) -> None:
        for row in rows:
            outcome = validate_row(row, feed=self.feed_name, host=host)
            if not isinstance(outcome, Record):
                assert all(problem.reason for problem in outcome), row
                assert row.file or row.source_uri, "a quarantined row must say where it was"

    def test_source_ids_are_unique_within_each_stream(self, rows: list[SourceRow]) -> None:
        valid = [
            (row.entity, row.source_id, json.dumps(row.data, sort_keys=True, default=str))
            for row in rows
            if row.source_id
        ]
        # A repeat of the very same record is harmless; two different records under one id
        # are not (the ingest quarantines the second).
        clashes = Counter((entity, source_id) for entity, source_id, _ in set(valid))
        repeated = {key for key, count in clashes.items() if count > 1}
        assert repeated == self.duplicates_on_purpose, f"ids used by different records: {repeated}"

    def test_provenance_is_complete(self, adapter: FeedAdapter, rows: list[SourceRow]) -> None:
        assert adapter.version, "the adapter declares no version"
        for row in rows:
            assert row.file or row.source_uri, f"{row.source_id}: no file or source URI"
            assert all(isinstance(i, Identifier) and i.scheme and i.value for i in row.identifiers)
            assert row.raw, f"{row.source_id}: the raw source record is not kept"

    def test_two_full_reads_are_identical(
        self, adapter: FeedAdapter, rows: list[SourceRow]
    ) -> None:
        assert _read(adapter, str(self.sample)) == rows

    def test_a_state_from_the_future_yields_nothing(self, adapter: FeedAdapter) -> None:
        incremental = {s.entity for s in adapter.streams if s.cursor_field}
        future = dict.fromkeys(incremental, FUTURE)
        rows = _read(adapter, str(self.sample), state=future)
        # A record without a cursor value cannot be placed in time, so it is always read.
        dated = [row for row in rows if row.entity in incremental and row.cursor is not None]
        assert dated == []

    def test_records_match_the_golden_file(self, host: PluginHost, rows: list[SourceRow]) -> None:
        described = describe_rows(rows, feed=self.feed_name, host=host)
        text = json.dumps(described, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if os.environ.get("ATMP_UPDATE_GOLDEN") == "1":
            self.golden.write_text(text, encoding="utf-8")
        assert self.golden.exists(), f"write {self.golden} with ATMP_UPDATE_GOLDEN=1 pytest"
        assert json.loads(self.golden.read_text(encoding="utf-8")) == json.loads(text)
