"""What the browser tests share: Debian's chromium, headless through Selenium, that reaches
127.0.0.1 alone and logs every request it makes; and how to wait for what a page shows."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
WAIT = 30  # seconds; parsing 3.5 MB of GraphiQL on a busy 2-core machine takes a few


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    """Headless chromium that can reach 127.0.0.1 alone, logging every request it makes."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        message = f"{' and '.join(missing)} not found: install chromium and its driver: `{INSTALL}`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Selenium Manager would try to download a driver; we name Debian's.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",  # we run as root
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        # No name resolves: a CDN URL would fail here even on a machine with internet.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--window-size=1600,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def visible(browser: WebDriver, css: str, *, text: str | None = None) -> WebElement:
    """The first element `css` selects that is shown (and reads `text`), once there is one."""

    def shown(_: WebDriver) -> WebElement | None:
        elements = browser.find_elements(By.CSS_SELECTOR, css)
        return next((e for e in elements if e.is_displayed() and text in (None, e.text)), None)

    return WebDriverWait(browser, WAIT).until(shown)


def requests_made(browser: WebDriver) -> list[tuple[str, str, str | None]]:
    """(method, url, body) of every request and WebSocket the page opened since the last call."""
    sent = []
    for entry in browser.get_log("performance"):
        event: dict[str, Any] = json.loads(entry["message"])["message"]
        if event["method"] == "Network.requestWillBeSent":
            request = event["params"]["request"]
            sent.append((request["method"], request["url"], request.get("postData")))
        elif event["method"] == "Network.webSocketCreated":
            sent.append(("WEBSOCKET", event["params"]["url"], None))
    return sent
