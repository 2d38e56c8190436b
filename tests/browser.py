"""The browser suite's shared parts: one headless Chromium per session, the app and mail viewer served over HTTP.

A pytest plugin (tests/conftest.py loads it), so every browser test module shares the one Chromium
a worker starts: Playwright's sync API allows one per process.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import app as app_module
from chalicelib.domain.event import Event
from local import engines, mailview
from tests.conftest import ROOT, World

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"
# What the machine's closed network needs (no background connections), and running as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session (Playwright cannot download its own here)."""
    assert CHROMIUM.exists(), "browser tests need Debian's Chromium: apt-get install chromium fonts-noto-cjk"
    assert AXE.exists(), "axe-core comes from npm: run `npm ci`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Site:
    """The app and the mail viewer, served over HTTP for this test."""

    url: str
    mail_url: str
    world: World


@pytest.fixture(scope="session")
def servers(local_engines: Any) -> Iterator[tuple[str, str]]:
    """The app (Chalice's local server) and the mail viewer on free ports, for the whole session.

    Chalice's local server re-classes the app object once, so it is made once; each test's own
    table and clock reach it through the services its `world` installs.
    """
    from local.run import serve_site

    web = serve_site(app_module.app, "127.0.0.1", _free_port())
    viewer = mailview.serve("127.0.0.1", _free_port(), lambda: [m.raw_data for m in engines.sent_messages()])
    for server in (web.server, viewer):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{web.server.server_port}", f"http://127.0.0.1:{viewer.server_port}"
    finally:
        for server in (web.server, viewer):
            server.shutdown()
            server.server_close()


@pytest.fixture
def site(servers: tuple[str, str], world: World, published: Event) -> Site:
    return Site(servers[0], servers[1], world)
