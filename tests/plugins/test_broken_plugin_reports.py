"""What a user sees of a broken plugin: one line per plugin and command, naming the plugin, the
hook and what to change; an unknown name in ATMP_GRAPH_PLUGINS stops the command."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.manager import ENTRY_POINT_GROUP, PluginError
from tests.plugins.installed import install_plugin

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
HEADER = 'from atmp_graph import hookimpl\n\nATMP_GRAPH_CONTRACT = "1.0"\n'
BROKEN = {
    "import_error": "import no_such_module_anywhere\n",
    "wrong_signature": HEADER + "@hookimpl\ndef atmp_graph_feeds(colour):\n    return []\n",
    "wrong_validate": HEADER + "@hookimpl\n"
    "def atmp_graph_validate_record(feed, record, colour):\n    return []\n",
    "misspelt_hook": HEADER + "@hookimpl\ndef atmp_graph_feed():\n    return []\n",
    "raising_validate": HEADER + "@hookimpl\n"
    "def atmp_graph_validate_record(record):\n    raise ValueError('rules file missing')\n",
    "raising_after": HEADER + "@hookimpl\n"
    "def atmp_graph_after_ingest(report):\n    raise ValueError('no mail server')\n",
}
# One line each, however many records a hook raised on.
WARNINGS = [
    "warning: plugin 'import_error': cannot be loaded: ModuleNotFoundError: No module named "
    "'no_such_module_anywhere' (entry point import_error = import_error): install what it "
    "imports, or uninstall import_error",
    "warning: plugin 'wrong_signature': atmp_graph_feeds has no argument colour: define it with "
    "only these arguments, or fewer: atmp_graph_feeds()",
    "warning: plugin 'wrong_validate': atmp_graph_validate_record has no argument colour: "
    "define it with only these arguments, or fewer: "
    "atmp_graph_validate_record(feed, record, row, problems)",
    "warning: plugin 'misspelt_hook': atmp_graph_feed is not a hook: rename it to atmp_graph_feeds",
    "warning: plugin 'raising_validate': atmp_graph_validate_record raised ValueError: rules "
    "file missing; the records it cannot check are quarantined: make the hook return (field, "
    "reason) pairs instead of raising",
    "warning: plugin 'raising_after': atmp_graph_after_ingest raised ValueError: no mail "
    "server; the ingest is not affected: fix the hook, or make it catch what it cannot handle",
]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path (and the commands' PYTHONPATH) to install plugins into."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def run(*args: str, site: Path, cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), **environment}
    env.setdefault("ATMP_DATABASE_URL", f"sqlite:///{cwd / 'atmp-graph.db'}")
    return subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def test_each_broken_plugin_is_reported_once_in_one_line(site: Path, tmp_path: Path) -> None:
    for name, source in BROKEN.items():
        install_plugin(site, name, source)

    ingested = run(COMMAND, "ingest", "lund_skane", str(sample_path("lund_skane")), site=site,
                   cwd=tmp_path)  # fmt: skip

    assert ingested.returncode == 0, ingested.stderr
    assert sorted(ingested.stderr.splitlines()) == sorted(WARNINGS)


def test_the_plugins_command_reports_each_broken_plugin_once(site: Path, tmp_path: Path) -> None:
    for name, source in BROKEN.items():
        install_plugin(site, name, source)

    listing = run(COMMAND, "plugins", site=site, cwd=tmp_path)

    # Only the hooks that broke at load time: the others have not been called yet.
    assert sorted(listing.stderr.splitlines()) == sorted(WARNINGS[:4])
    rows = {line.split()[0]: line for line in listing.stdout.splitlines()}
    assert rows["misspelt_hook"].endswith(
        "error: atmp_graph_feed is not a hook: rename it to atmp_graph_feeds"
    )


def _installed() -> str:
    return ", ".join(
        sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})
    )


@pytest.mark.parametrize(
    "command",
    [("plugins",), ("ingest", "lund_skane", str(sample_path("lund_skane"))), ("serve",)],
    ids=lambda command: command[0],
)
def test_an_unknown_plugin_name_stops_the_command(
    site: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    install_plugin(site, "good_plugin", HEADER)

    result = run(COMMAND, *command, site=site, cwd=tmp_path,
                 ATMP_GRAPH_PLUGINS="good_plugin, nope ,lund_skane")  # fmt: skip

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "Error: ATMP_GRAPH_PLUGINS names 'nope', which is not installed; the installed plugins "
        f"are: {_installed()}"
    ]
    assert "good_plugin" in _installed()


def test_the_app_refuses_to_start_with_an_unknown_plugin_name(site: Path, tmp_path: Path) -> None:
    install_plugin(site, "good_plugin", HEADER)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", graph_plugins="nope,nada")

    with pytest.raises(PluginError) as refused:
        create_app(settings)

    assert str(refused.value) == (
        "ATMP_GRAPH_PLUGINS names 'nada', 'nope', which are not installed; the installed "
        f"plugins are: {_installed()}"
    )


KIT_TEST = """
    from pathlib import Path

    from atmp_graph.plugins.conformance import FeedConformance


    class TestBrokenFeed(FeedConformance):
        feed_name = "broken_feed"
        sample = Path(__file__)
        golden = Path(__file__).with_name("golden.json")
"""


def test_the_conformance_kit_says_why_the_plugin_was_set_aside(site: Path, tmp_path: Path) -> None:
    install_plugin(site, "broken_feed", HEADER + "@hookimpl\ndef atmp_graph_feeds(config):\n"
                   "    return []\n")  # fmt: skip
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "test_broken_feed.py").write_text(textwrap.dedent(KIT_TEST), encoding="utf-8")

    result = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(kit),
                 site=site, cwd=kit)  # fmt: skip

    assert result.returncode == 1, result.stdout
    assert (
        "no installed plugin provides the feed 'broken_feed'; the host set these plugins "
        "aside: plugin 'broken_feed': atmp_graph_feeds has no argument config: define it with "
        "only these arguments, or fewer: atmp_graph_feeds()"
    ) in result.stdout
