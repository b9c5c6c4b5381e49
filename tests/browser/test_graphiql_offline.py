"""GraphiQL with no internet: every script and stylesheet comes from our own app.

A real browser (Debian's chromium, headless, through Selenium) opens /graphql on a live
uvicorn server over the demo data, enters a query, runs it, reads the answer and the docs, and
every request it made went to that server and nowhere else.
"""

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import uvicorn
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.demo import load_demo
from atmp_graph.api.settings import Settings
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.manager import build_plugin_host
from atmp_graph.schema.schema import schema
from tests.browser.conftest import WAIT, requests_made, visible
from tests.databases import migrate

ROOT = Path(__file__).parents[2]
SCREENSHOT = ROOT / "test-artifacts" / "graphiql.png"
QUERY = '{ trial(registryId: "NCT05635409") { acronym } }'
# What the page loads, relative to /graphql: the builds api/static/graphiql/update.sh vendors.
ASSETS = [
    "graphiql/static/react/react.production.min.js",
    "graphiql/static/react-dom/react-dom.production.min.js",
    "graphiql/static/js-cookie/js.cookie.min.js",
    "graphiql/static/graphiql/graphiql.min.css",
    "graphiql/static/@graphiql/plugin-explorer/style.css",
    "graphiql/static/graphiql/graphiql.min.js",
    "graphiql/static/@graphiql/plugin-explorer/index.umd.js",
]
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class _PageAssets(HTMLParser):
    """The (url, integrity) of every script and stylesheet a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = attributes.get("src") if tag == "script" else None
        if tag == "link" and attributes.get("rel") == "stylesheet":
            url = attributes.get("href")
        if url:
            self.assets.append((url, attributes.get("integrity")))


def _sha384(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def test_the_page_loads_only_what_the_app_itself_serves(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    with TestClient(app) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        parser = _PageAssets()
        parser.feed(page.text)

        assert [url for url, _ in parser.assets] == ASSETS
        for url, integrity in parser.assets:
            asset = client.get(urljoin("/graphql", url))
            assert asset.status_code == 200, url
            assert asset.headers["content-type"] == MEDIA_TYPES[Path(url).suffix], url
            # A browser runs no file whose hash differs from the page's integrity value.
            assert integrity == _sha384(asset.content), url


def test_without_graphiql_neither_the_page_nor_its_assets_are_served(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", graphiql=False)
    with TestClient(create_app(settings)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        asset = client.get(urljoin("/graphql", ASSETS[0]))

    assert (page.status_code, asset.status_code) == (404, 404)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """http://127.0.0.1:PORT of a real uvicorn server over a SQLite demo database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('graphiql') / 'atmp-graph.db'}"
    migrate(url)
    engine = make_engine(url)
    list(load_demo(engine, build_plugin_host(load_entry_points=False)))
    engine.dispose()
    # The server gets a socket already bound to a free port: no window for another to take it.
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    app = create_app(Settings(database_url=url, plugins_from_entry_points=False))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]})
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, f"uvicorn did not start within {WAIT} s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=WAIT)
    listening.close()


def _editor_text(browser: WebDriver, css: str) -> str:
    """The text an editor shows, line by line as CodeMirror renders it."""
    # Read in one go: CodeMirror redraws its lines while a response streams in.
    text: str = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), l => l.innerText).join('\\n')",
        f"{css} .CodeMirror-code pre.CodeMirror-line",
    )
    # CodeMirror draws indentation with no-break spaces, an empty line as a zero-width space.
    return text.replace("\xa0", " ").replace("\u200b", "")


def test_graphiql_runs_a_query_and_shows_the_docs_offline(
    live_server: str, browser: WebDriver
) -> None:
    # Leave chromium's own start page (chrome:// resources), and forget its requests.
    browser.get("about:blank")
    requests_made(browser)
    browser.get(f"{live_server}/graphql")

    # Put the query in the editor as one edit, the way a paste does. Typed key by key, it raced
    # GraphiQL on a slow CI machine: the tab state GraphiQL keeps lags the editor, and writing
    # the lagging text back reset the cursor mid-query (CI showed "onym } { trial(...)}").
    visible(browser, ".graphiql-query-editor .CodeMirror").click()
    browser.execute_script(
        "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])",
        ".graphiql-query-editor .CodeMirror",
        QUERY,
    )
    WebDriverWait(browser, WAIT).until(
        lambda _: _editor_text(browser, ".graphiql-query-editor") == QUERY
    )

    visible(browser, "button.graphiql-execute-button").click()
    response = WebDriverWait(browser, WAIT).until(
        lambda _: _editor_text(browser, ".graphiql-response").strip()
    )
    assert json.loads(response)["data"] == {"trial": {"acronym": "STEM-PD"}}

    # The docs explorer: Query, then its field trial, whose description the schema gives.
    visible(browser, 'button[aria-label="Show Documentation Explorer"]').click()
    visible(browser, "a.graphiql-doc-explorer-type-name", text="Query").click()
    visible(browser, "a.graphiql-doc-explorer-field-name", text="trial").click()
    description = visible(browser, ".graphiql-doc-explorer-content .graphiql-markdown-description")
    assert schema._schema.query_type is not None
    assert description.text == schema._schema.query_type.fields["trial"].description
    assert visible(browser, ".graphiql-doc-explorer-title").text == "trial"
    # The explorer plugin, vendored too, added itself to the sidebar.
    assert visible(browser, 'button[aria-label="Show GraphiQL Explorer"]')

    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    print(f"GraphiQL screenshot: {SCREENSHOT}")

    sent = requests_made(browser)
    # Inline data: URLs (GraphiQL's fonts, the favicon) are not requests to anywhere.
    elsewhere = [
        (method, url)
        for method, url, _ in sent
        if urlsplit(url).scheme != "data" and urlsplit(url).netloc != urlsplit(live_server).netloc
    ]
    assert elsewhere == []
    # The log is not empty by accident: it saw the page, every asset, and the query we ran.
    paths = {(method, urlsplit(url).path) for method, url, _ in sent}
    assert {("GET", "/graphql")} | {("GET", urljoin("/graphql", a)) for a in ASSETS} <= paths
    posted = [json.loads(body) for method, _, body in sent if method == "POST" and body]
    assert QUERY in [body.get("query") for body in posted]
