"""examples/frontend in a real browser: the page, on an origin of its own, lists the demo trials,
filters them, and shows the graph's changes as an ingest makes them; without the API's CORS
setting the same page can read nothing and says so.

The API is `atmp-graph serve --demo` (SQLite, no Redis: it runs the ingest itself), the page
is served by examples/frontend/serve.py on another port, and chromium has no way off the
machine: every request it makes goes to one of the two.
"""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from atmp_graph.schema.schema import schema
from tests.browser.conftest import WAIT, requests_made, visible
from tests.conftest import api_key
from tests.jobs.conftest import write_jobs_file
from tests.live_server import free_port, serving_process
from tests.registry_update import NEW_STATUS, OLD_STATUS, write_registry_update

ROOT = Path(__file__).parents[2]
FRONTEND = ROOT / "examples" / "frontend"
SCREENSHOT = ROOT / "test-artifacts" / "frontend.png"
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
TITLES = "query ($filter: TrialFilter) { trials(filter: $filter, orderBy: [{field: TITLE}]) { nodes { title } } }"  # noqa: E501
RUN_INGEST = 'mutation { runIngest(feed: "ctgov") { id } }'
STEM_PD_TITLE = (
    "A Trial to Determine the Safety and Tolerability of Transplanted Stem Cell Derived "
    "Dopamine Neurons to the Brains of Individuals With Parkinson's Disease"
)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[str]:
    """The example page's origin: examples/frontend/serve.py on a free port."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(FRONTEND / "serve.py"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as server:  # fmt: skip
        origin = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + WAIT
            while True:
                assert server.poll() is None, server.stdout and server.stdout.read()
                assert time.monotonic() < deadline, f"serve.py did not answer within {WAIT} s"
                try:
                    if httpx2.get(f"{origin}/", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            yield origin
        finally:
            server.terminate()
            server.wait(timeout=WAIT)


@contextmanager
def demo_api(directory: Path, **env: str) -> Iterator[tuple[str, str]]:
    """`serve --demo` over a SQLite file in `directory`, which runs the ctgov feed from a later
    registry export (tests/registry_update.py) when an admin asks; its URL and database's."""
    update = write_registry_update(directory / "ctgov-update")
    database_url = f"sqlite:///{directory / 'atmp-graph.db'}"
    settings = {
        "ATMP_DATABASE_URL": database_url,
        "ATMP_JOBS_CONFIG": str(write_jobs_file(directory, {"ctgov": {"source": update}})),
        "ATMP_LOG_LEVEL": "warning",
        **env,
    }
    with serving_process(COMMAND, "--demo", cwd=directory, env=settings) as server:
        yield server.base, database_url


def titles_in(browser: WebDriver) -> list[str]:
    found: list[str] = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trials tr.trial td:first-child'),"
        " cell => cell.textContent)"
    )
    return found


def shows_titles(browser: WebDriver, expected: list[str]) -> list[str]:
    """The titles the page lists, once they are `expected` (or after WAIT seconds)."""
    with contextlib.suppress(TimeoutException):
        WebDriverWait(browser, WAIT).until(lambda _: titles_in(browser) == expected)
    return titles_in(browser)


def api_titles(base: str, **filter: object) -> list[str]:
    answer = httpx2.post(f"{base}/graphql", json={"query": TITLES, "variables": {"filter": filter}})
    return [trial["title"] for trial in answer.json()["data"]["trials"]["nodes"]]


def test_the_page_lists_filters_and_follows_the_trials_from_its_own_origin(
    page: str, browser: WebDriver, tmp_path: Path
) -> None:
    with demo_api(tmp_path, ATMP_CORS_ORIGINS=page) as (api, database_url):
        everything = api_titles(api)
        completed = api_titles(api, status={"eq": "COMPLETED"})
        assert STEM_PD_TITLE in everything
        assert STEM_PD_TITLE not in completed
        assert len(completed) == 1
        # Leave chromium's own start page (chrome:// resources), and forget its requests.
        browser.get("about:blank")
        requests_made(browser)

        browser.get(f"{page}/?api={api}")
        assert shows_titles(browser, everything) == everything
        assert visible(browser, "#count").text == f"{len(everything)} trials"

        Select(visible(browser, "select[name=status]")).select_by_visible_text("COMPLETED")
        assert shows_titles(browser, completed) == completed

        # The live feed is listening; an admin has the registry's later export ingested.
        visible(browser, "#live", text="listening")
        headers = {"Authorization": f"Bearer {api_key(database_url)}"}
        queued = httpx2.post(f"{api}/graphql", json={"query": RUN_INGEST}, headers=headers)
        assert "errors" not in queued.json(), queued.json()

        # The change arrives, with the old and new status; the filtered list now has STEM-PD.
        change = visible(
            browser,
            "#changes li.change[data-kind=UPDATED][data-type=CLINICAL_TRIAL]",
            text=f"UPDATED CLINICAL_TRIAL STEM-PD: status: {OLD_STATUS} → {NEW_STATUS}",
        )
        assert int(change.get_attribute("data-sequence") or 0) > 0
        now_completed = sorted([*completed, STEM_PD_TITLE])
        assert shows_titles(browser, now_completed) == now_completed
        assert api_titles(api, status={"eq": "COMPLETED"}) == now_completed

        SCREENSHOT.parent.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))
        print(f"Frontend screenshot: {SCREENSHOT}")

        sent = requests_made(browser)
        origins = {urlsplit(url).netloc for _, url, _ in sent}
        assert origins == {urlsplit(page).netloc, urlsplit(api).netloc}
        # The page asked the API over HTTP (CORS) and over a WebSocket (not CORS).
        assert ("POST", f"{api}/graphql") in {(method, url) for method, url, _ in sent}
        assert ("WEBSOCKET", api.replace("http", "ws") + "/graphql", None) in sent


def test_without_the_cors_setting_the_page_shows_an_error_not_trials(
    page: str, browser: WebDriver, tmp_path: Path
) -> None:
    with demo_api(tmp_path) as (api, _):
        assert STEM_PD_TITLE in api_titles(api)  # the API answers; not this page

        browser.get(f"{page}/?api={api}")
        error = visible(browser, "#error")

        assert error.text == (
            f"{api} did not answer this page (Failed to fetch): is the API running, and "
            f"is {page} in its ATMP_CORS_ORIGINS?"
        )
        assert titles_in(browser) == []


class _Options(HTMLParser):
    """The values of each <select>'s options (an option's text, where it has no value)."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, list[str]] = {}
        self._select = ""
        self._text_is_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "select":
            self._select = str(attributes["name"])
            self.selects[self._select] = []
        elif tag == "option":
            self._text_is_value = "value" not in attributes
            self.selects[self._select].append(attributes.get("value") or "")

    def handle_data(self, data: str) -> None:
        if self._text_is_value:
            self.selects[self._select][-1] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        self._text_is_value = self._text_is_value and tag != "option"


@pytest.mark.parametrize(("select", "enum"), [("status", "TrialStatus"), ("phase", "TrialPhase")])
def test_the_pages_filters_offer_every_value_of_the_schema(select: str, enum: str) -> None:
    parser = _Options()
    parser.feed((FRONTEND / "index.html").read_text(encoding="utf-8"))
    values = schema._schema.get_type(enum).values  # type: ignore[union-attr]

    # "any" first, then each value in the schema's order.
    assert parser.selects[select] == ["", *values]
