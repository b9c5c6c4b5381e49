"""The plugin host: built-ins registered like any plugin; broken plugins named and set aside."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.hookspecs import hookimpl
from atmp_graph.plugins.manager import PluginHost, build_plugin_host
from tests.plugins.installed import install_plugin

BUILTIN_FEEDS = ["collaboration", "ctgov", "lumc", "lund_skane"]

GOOD = """
    from atmp_graph import hookimpl

    ATMP_GRAPH_CONTRACT = "1.0"
    seen = []

    @hookimpl
    def atmp_graph_after_ingest(report):
        seen.append(report.feed)
"""
BROKEN = {
    "import_error": "import no_such_module_anywhere\n",
    "raising_hook": """
        from atmp_graph import hookimpl

        ATMP_GRAPH_CONTRACT = "1.0"

        @hookimpl
        def atmp_graph_feeds():
            raise RuntimeError("feed list unavailable")
    """,
    "wrong_signature": """
        from atmp_graph import hookimpl

        ATMP_GRAPH_CONTRACT = "1.0"

        @hookimpl
        def atmp_graph_feeds(colour):
            return []
    """,
    "misspelt_hook": """
        from atmp_graph import hookimpl

        ATMP_GRAPH_CONTRACT = "1.0"

        @hookimpl
        def atmp_graph_feed():
            return []
    """,
    "older_contract": """
        from atmp_graph import hookimpl

        ATMP_GRAPH_CONTRACT = "0.9"

        @hookimpl
        def atmp_graph_feeds():
            return []
    """,
    "undeclared_contract": """
        from atmp_graph import hookimpl

        @hookimpl
        def atmp_graph_feeds():
            return []
    """,
}
REASONS = {
    "import_error": "cannot be loaded: ModuleNotFoundError: No module named "
    "'no_such_module_anywhere' (entry point import_error = import_error): install what it "
    "imports, or uninstall import_error",
    "raising_hook": "atmp_graph_feeds raised RuntimeError: feed list unavailable; its feeds are "
    "not served: make the hook return its feed adapters",
    "wrong_signature": "atmp_graph_feeds has no argument colour: define it with only these "
    "arguments, or fewer: atmp_graph_feeds()",
    "misspelt_hook": "atmp_graph_feed is not a hook: rename it to atmp_graph_feeds",
    "older_contract": "was written for plugin contract 0.9, and this ATMP Graph has contract "
    "1.1: install a version of the plugin made for contract 1.x",
    "undeclared_contract": "does not say which plugin contract it was written for: "
    'add ATMP_GRAPH_CONTRACT = "1.1" to the module its entry point names',
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path to install plugins into; its modules are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_builtin_feeds_are_plugins_like_any_other() -> None:
    host = build_plugin_host(load_entry_points=False)

    assert sorted(host.feeds()) == BUILTIN_FEEDS
    infos = {info.name: info for info in host.describe()}
    assert infos["lund_skane"].builtin
    assert infos["lund_skane"].hooks == ("atmp_graph_claim_source", "atmp_graph_feeds")
    assert host.failures == []


def test_each_call_builds_a_fresh_host() -> None:
    first = build_plugin_host(load_entry_points=False)
    assert first is not build_plugin_host(load_entry_points=False)
    assert first.manager is not build_plugin_host(load_entry_points=False).manager


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_plugin_is_named_and_set_aside(site: Path, engine: Engine, kind: str) -> None:
    install_plugin(site, kind, BROKEN[kind])
    install_plugin(site, "good_plugin", GOOD)

    host = build_plugin_host()

    (failure,) = host.failures
    assert (failure.plugin, failure.reason) == (kind, REASONS[kind])
    assert set(BUILTIN_FEEDS) <= set(host.feeds())
    # The other plugins still work: an ingest runs and the good plugin hears of it.
    report = ingest(engine, host.feeds()["lund_skane"], sample_path("lund_skane"), host=host)
    assert report.read == 22
    assert sys.modules["good_plugin"].seen == ["lund_skane"]


def test_a_plugin_for_a_later_minor_contract_loads(site: Path) -> None:
    install_plugin(site, "newer_minor", GOOD.replace('"1.0"', '"1.7"'))

    host = build_plugin_host()

    assert host.failures == []
    assert "newer_minor" in [info.name for info in host.describe()]


def test_only_the_named_plugins_load(site: Path) -> None:
    install_plugin(site, "first_plugin", GOOD)
    install_plugin(site, "second_plugin", GOOD, version="2.5")

    host = build_plugin_host(only={"second_plugin"})

    names = [info.name for info in host.describe()]
    assert "second_plugin" in names
    assert "first_plugin" not in names
    assert {info.name: info.version for info in host.describe()}["second_plugin"] == "2.5"


def test_a_raising_after_ingest_hook_does_not_fail_the_ingest(engine: Engine) -> None:
    class Grumpy:
        @hookimpl
        def atmp_graph_after_ingest(self, report: object) -> None:
            raise ValueError("no")

    host = build_plugin_host(load_entry_points=False)
    host.manager.register(Grumpy(), name="grumpy")

    report = ingest(engine, host.feeds()["lund_skane"], sample_path("lund_skane"), host=host)

    assert report.read == 22
    assert [f.message() for f in host.failures] == [
        "plugin 'grumpy': atmp_graph_after_ingest raised ValueError: no; the ingest is not "
        "affected: fix the hook, or make it catch what it cannot handle"
    ]


def test_validation_hooks_add_their_own_rules(engine: Engine) -> None:
    class NoPreclinical:
        @hookimpl
        def atmp_graph_validate_record(self, record: object) -> list[tuple[str, str]]:
            if getattr(getattr(record, "stage", None), "value", None) == "PRECLINICAL":
                return [("stage", "preclinical products are not shared yet")]
            return []

    host: PluginHost = build_plugin_host(load_entry_points=False)
    host.manager.register(NoPreclinical(), name="no_preclinical")

    report = ingest(engine, host.feeds()["lund_skane"], sample_path("lund_skane"), host=host)

    messages = [entry.message() for entry in report.quarantine]
    assert (
        "lund_skane: products.csv row 3 (LU-ATMP-02): Utvecklingsfas preclinical products are "
        "not shared yet"
    ) in messages
    assert report.read == report.stored + report.quarantined


@pytest.mark.parametrize(
    ("scheme", "value", "canonical"),
    [
        ("eudract", "EUCTR2019-002343-14-NL", "2019-002343-14"),
        ("eudract", " 2021-001366-38 ", "2021-001366-38"),
        ("nct", "nct05635409", "NCT05635409"),
        ("ror", "https://ror.org/05xvt9f17", "05xvt9f17"),
        ("unknown", "As Is", "As Is"),
    ],
)
def test_identifiers_are_normalised_by_hook(scheme: str, value: str, canonical: str) -> None:
    assert build_plugin_host().normalize_identifier(scheme, value) == canonical


@pytest.mark.parametrize(
    ("source", "feed"),
    [
        (str(sample_path("lund_skane")), "lund_skane"),
        (str(sample_path("lund_skane") / "trials.csv"), "lund_skane"),
        (str(sample_path("collaboration") / "collaboration.json"), "collaboration"),
        ("/nowhere/at/all.xml", None),
    ],
)
def test_plugins_claim_the_sources_they_read(source: str, feed: str | None) -> None:
    assert build_plugin_host(load_entry_points=False).claim(source) == feed


def test_plugins_command_lists_broken_plugins_too(site: Path) -> None:
    install_plugin(site, "import_error", BROKEN["import_error"])
    env = {**os.environ, "PYTHONPATH": str(site)}
    command = str(Path(sys.executable).with_name("atmp-graph"))

    table = subprocess.run(
        [command, "plugins"], capture_output=True, text=True, env=env, check=True
    )
    listing = subprocess.run(
        [command, "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )

    (row,) = [line for line in table.stdout.splitlines() if line.startswith("import_error")]
    assert row.split()[:2] == ["import_error", "1.0"]
    assert row.endswith("error: " + REASONS["import_error"])
    assert table.stderr == f"warning: plugin 'import_error': {REASONS['import_error']}\n"
    broken = next(p for p in json.loads(listing.stdout) if p["name"] == "import_error")
    assert broken["errors"] == [f"{REASONS['import_error']}"]
