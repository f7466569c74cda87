"""A real API process on 127.0.0.1 over a seeded SQLite database, and Debian's Chromium driven
by Playwright (no browser download). Every request to anything but 127.0.0.1 is aborted and
recorded: the dashboard must need nothing from the internet."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from benchmarks.harness import api_server
from datas_core.db.migrate import upgrade
from tests.conftest import missing_system_part
from tests.dashboard.seed import Seeded, seed

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots of every page at desktop and phone width (gitignored).
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "dashboard"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@dataclass
class Live:
    base: str
    db_url: str
    seeded: Seeded


@dataclass
class Browsing:
    """The browser, and every request it tried to send off this machine."""

    browser: Any
    outside: list[str] = field(default_factory=list)

    def page(self, base: str, viewport: dict[str, int] = DESKTOP) -> Any:
        context = self.browser.new_context(viewport=viewport, base_url=base)

        def guard(route: Any) -> None:
            host = urlsplit(route.request.url).hostname
            if route.request.url.startswith("data:") or host == "127.0.0.1":
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page


def start_live(tmp: str, env: dict[str, str] | None = None) -> Iterator[Live]:
    url = f"sqlite:///{tmp}/dashboard.db"
    upgrade(url)
    seeded = seed(url)
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        with api_server(url, home=tmp) as base:
            yield Live(base=base, db_url=url, seeded=seeded)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with tempfile.TemporaryDirectory() as tmp:
        yield from start_live(tmp)


# Module scope, not session: between its calls Playwright's sync API leaves its event loop
# marked running in this thread, which breaks later tests that run asyncio code (Dagster's).
@pytest.fixture(scope="module")
def browsing() -> Iterator[Browsing]:
    if not Path(CHROMIUM).exists():
        missing_system_part(
            f"{CHROMIUM} is missing; install Debian's browser with `apt-get install chromium` "
            "(scripts/system-packages.txt) for the dashboard's browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_system_part("playwright is not installed; pip install -e '.[dev]'")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        seen = Browsing(browser)
        yield seen
        browser.close()
    assert seen.outside == [], f"the dashboard tried to reach the internet: {seen.outside}"


def log_in(page: Any, username: str, password: str, path: str = "/dashboard/network") -> None:
    page.goto(path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form#login button")
    page.wait_for_url(f"**{path}")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
