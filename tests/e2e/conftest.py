"""The browser for the tests in this folder: Debian's chromium (never a downloaded one),
driven by Playwright."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

# Debian's package; TURNERO_CHROMIUM names another build of it (or a missing one, to see
# the skip said out loud)
CHROMIUM = os.environ.get("TURNERO_CHROMIUM", "/usr/bin/chromium")
NO_BROWSER = "no browser"  # begins each skip's reason, so the run's summary can count them
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _browser_required() -> bool:
    """CI sets TURNERO_REQUIRE_BROWSER, so a missing browser fails there instead of
    skipping unnoticed."""
    return bool(os.environ.get("TURNERO_REQUIRE_BROWSER"))


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM) and not _browser_required():
        pytest.skip(f"{NO_BROWSER}: {CHROMIUM} is not installed (apt-get install chromium)")
    if _browser_required():
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip(
            "playwright.sync_api", reason=f"{NO_BROWSER}: playwright is not installed"
        ).sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves the pictures it takes: under its tmp_path, so a run changes no
    tracked file; `TURNERO_SCREENSHOTS=docs/screenshots` refreshes the docs' pictures."""
    folder = os.environ.get("TURNERO_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on a free local port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
