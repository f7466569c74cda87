"""The dashboard in a real browser (Debian's Chromium) against a real API process: log in, every
page at desktop and phone width, admin and reader actions, escaping, expiry, throttling."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, update

from datas_core.db import make_engine, make_session_factory
from datas_core.db.models import Site, UserSession
from tests.dashboard.conftest import PHONE, Browsing, Live, log_in, shot, start_live
from tests.dashboard.seed import ADMIN, HOSTILE_NAME, READER


def _count_sites(db_url: str) -> int:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        n = int(s.scalar(select(func.count()).select_from(Site)) or 0)
    engine.dispose()
    return n


def _expire_sessions(db_url: str) -> None:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        past = datetime.now(timezone.utc) - timedelta(minutes=1)
        s.execute(update(UserSession).values(expires_at=past))
        s.commit()
    engine.dispose()


def _visit_all(page: Any, live: Live, suffix: str) -> None:
    """Every page, with what it must show; a screenshot of each."""
    seeded = live.seeded
    page.goto("/dashboard/network")
    markers = page.locator("#map circle.site")
    assert markers.count() == len(seeded.site_ids)
    for state in ("observing", "idle", "unsafe", "offline", "paused"):
        expected = sum(1 for s in seeded.states.values() if s == state)
        assert page.locator(f"#map circle.site[data-state={state}]").count() == expected, state
        assert page.locator(f".count[data-state={state}]").inner_text() == str(expected)
    assert page.locator("#map path.night").get_attribute("d").startswith("M")
    assert page.locator("#sites-table tbody tr").count() == len(seeded.site_ids)
    shot(page, f"network-{suffix}")

    page.goto("/dashboard/sites/night-obs")
    assert "Observing" in page.locator("#site-state").inner_text()
    assert page.locator("#devices tbody tr").count() == 2  # mount, camera (agent shown apart)
    assert "entry 4: ra_deg is not a number" in page.locator("#agent").inner_text()
    assert "12" in page.locator("#outbox").inner_text()
    assert page.locator("#served tbody tr a").count() >= 1  # the real ranking served it targets
    assert page.locator("#tonight tbody tr a").count() >= 1
    shot(page, f"site-{suffix}")

    page.goto("/dashboard/sites/new-obs")
    assert page.locator("#never-seen").is_visible()
    assert page.locator("#heartbeat-age").inner_text() == "never"
    shot(page, f"site-never-seen-{suffix}")

    page.goto("/dashboard/observations")
    assert page.locator("#observations tbody tr").count() == seeded.observation_rows
    assert page.locator("#observations .flag").count() == seeded.flagged
    page.goto("/dashboard/observations?site=night-obs")
    assert page.locator("#observations tbody tr").count() == seeded.points // 2
    shot(page, f"observations-{suffix}")
    page.locator("#observations a", has_text="reduced").first.click()
    page.wait_for_url("**/dashboard/frames/**")
    assert page.locator("#frame-status").inner_text() == "reduced"
    shot(page, f"frame-{suffix}")

    page.goto("/dashboard/campaigns")
    assert page.locator("section.campaign").count() == 1
    page.goto(f"/dashboard/campaigns/{seeded.campaign_id}")
    assert page.locator("#campaign-targets tbody tr").count() == 3
    bar = page.locator("#campaign-targets progress").first
    assert bar.get_attribute("value") == str(seeded.points) and bar.get_attribute("max") == "40"
    shot(page, f"campaign-{suffix}")

    page.goto(f"/dashboard/targets/{seeded.variable_id}")
    points = page.locator("#lightcurve g.pt")
    assert points.count() == seeded.points
    assert page.locator("#lightcurve g.pt.flagged").count() == seeded.flagged
    assert page.locator("#lightcurve line.errbar").count() == seeded.points
    assert "BJD_TDB" in page.locator("#lightcurve").inner_html()
    page.locator("#show-flagged").uncheck()
    assert points.count() == seeded.points - seeded.flagged
    page.locator("#show-flagged").check()
    page.locator("input[data-band=B]").uncheck()
    assert 0 < points.count() < seeded.points
    page.locator("input[data-band=B]").check()
    assert page.locator("#aliases tbody tr").count() == 2
    assert page.locator("#target-alerts tbody tr").count() == 1
    assert page.locator("#altitude path.curve").count() >= 1
    assert page.locator("#ranking tbody tr").count() >= 1
    shot(page, f"target-{suffix}")

    page.goto(f"/dashboard/targets/{seeded.lonely_id}")
    assert page.locator("#no-points").is_visible()
    assert page.locator("#altitude path.curve").count() >= 1
    shot(page, f"target-no-observations-{suffix}")

    page.goto("/dashboard/quality")
    assert page.locator("#site-nights tbody tr").count() >= 2
    assert page.locator("#failures tbody tr").count() == 2
    assert page.locator("#zp-plot g.pt").count() >= 2
    shot(page, f"quality-{suffix}")

    page.goto("/dashboard/alerts")
    assert page.locator("section.feed").count() == 2
    assert "created target" in page.locator("section.feed[data-feed=tns]").inner_text()
    assert "updated target" in page.locator("section.feed[data-feed=ztf]").inner_text()
    shot(page, f"alerts-{suffix}")


def test_every_page_renders_with_its_data_at_desktop_and_phone_width(
    live: Live, browsing: Browsing
) -> None:
    page = browsing.page(live.base)
    log_in(page, *ADMIN)
    _visit_all(page, live, "desktop")
    page.goto("/dashboard/admin")
    shot(page, "admin-desktop")
    phone = browsing.page(live.base, PHONE)
    log_in(phone, *ADMIN)
    _visit_all(phone, live, "phone")
    # Nothing is wider than the phone's screen except inside scrolling table boxes.
    phone.goto("/dashboard/network")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    page.context.close()
    phone.context.close()


def test_html_in_a_target_name_is_shown_as_text(live: Live, browsing: Browsing) -> None:
    page = browsing.page(live.base)
    log_in(page, *READER)
    page.goto(f"/dashboard/targets/{live.seeded.hostile_id}")
    assert page.locator("h1").inner_text() == HOSTILE_NAME
    assert page.locator("h1 b, h1 script").count() == 0
    page.goto("/dashboard/targets")
    page.goto(f"/dashboard/observations?target={live.seeded.hostile_id}")
    assert page.locator("#observations tbody a", has_text="<script>").count() == 1
    page.evaluate("DATAS.refresh()")  # the refreshed fragment is escaped too
    assert page.locator("#observations tbody a", has_text="<script>").count() == 1
    assert page.evaluate("window.pwned") is None
    shot(page, "target-name-escaped")
    page.context.close()


def test_admin_creates_a_site_gets_its_key_once_and_sees_it(live: Live, browsing: Browsing) -> None:
    before = _count_sites(live.db_url)
    page = browsing.page(live.base)
    log_in(page, *ADMIN, path="/dashboard/admin")
    form = page.locator("form#create-site")
    form.locator("input[name=site_id]").fill("brand-new")
    form.locator("input[name=name]").fill("Brand New Observatory")
    form.locator("input[name=latitude]").fill("-24.6")
    form.locator("input[name=longitude]").fill("-70.4")
    form.locator("input[name=filters]").fill("V, R")
    form.locator("button[type=submit]").click()
    key = form.locator(".secret code.key")
    key.wait_for()
    assert key.inner_text().startswith("datas_")
    assert "created" in form.locator(".result").inner_text()
    shot(page, "admin-site-created")
    assert _count_sites(live.db_url) == before + 1
    page.goto("/dashboard/network")
    assert page.locator("#map circle.site").count() == before + 1
    assert page.locator("#map circle.site[data-site=brand-new]").get_attribute("data-state") == (
        "offline"
    )
    page.goto("/dashboard/sites/brand-new")
    assert page.locator("#never-seen").is_visible()
    page.locator("button.site-active").click()  # pause it
    page.locator("#site-state", has_text="Paused").wait_for()
    page.goto("/dashboard/admin")
    page.locator("form#add-target input[name=name]").fill("Admin Added Star")
    page.locator("form#add-target input[name=ra_deg]").fill("10.5")
    page.locator("form#add-target input[name=dec_deg]").fill("-5.25")
    page.locator("form#add-target button").click()
    page.locator("form#add-target .result", has_text="added").wait_for()
    page.locator("form#add-campaign input[name=name]").fill("Admin campaign")
    page.locator("form#add-campaign input[name=target_ids]").fill(str(live.seeded.lonely_id))
    page.locator("form#add-campaign button").click()
    page.locator("form#add-campaign .result", has_text="with 1 targets").wait_for()
    page.context.close()


def test_a_reader_gets_the_403_page_and_nothing_changes(live: Live, browsing: Browsing) -> None:
    before = _count_sites(live.db_url)
    page = browsing.page(live.base)
    log_in(page, *READER)
    assert page.locator("nav a", has_text="Admin").count() == 0
    response = page.goto("/dashboard/admin")
    assert response.status == 403
    assert "needs an administrator" in page.locator("main").inner_text()
    page.goto("/dashboard/sites/idle-obs")
    assert page.locator("button.site-active").count() == 0  # readers see, admins act
    # The API refuses the action itself too; the script shows the 403 page.
    page.evaluate(
        "DATAS.api('POST', '/api/v1/sites', {site_id: 'sneaky', name: 'Sneaky', "
        "latitude: 1, longitude: 2}).catch(() => null)"
    )
    page.wait_for_url("**/dashboard/forbidden")
    assert "Nothing was changed" in page.locator("main").inner_text()
    shot(page, "reader-forbidden")
    assert _count_sites(live.db_url) == before
    page.context.close()


def test_an_expired_session_goes_back_to_the_login_with_a_message(
    live: Live, browsing: Browsing
) -> None:
    page = browsing.page(live.base)
    log_in(page, *READER, path="/dashboard/quality")
    _expire_sessions(live.db_url)
    page.evaluate("DATAS.refresh()")  # the periodic refresh notices first
    page.wait_for_url("**/dashboard/login?**expired=1")
    assert page.locator("#expired").is_visible()
    shot(page, "login-expired")
    log_in(page, *READER, path="/dashboard/alerts")
    _expire_sessions(live.db_url)
    page.goto("/dashboard/campaigns")  # and so does a page load
    assert "/dashboard/login" in page.url and page.locator("#expired").is_visible()
    page.context.close()


@pytest.fixture(scope="module")
def strict_live() -> Iterator[Live]:
    """Its own server and database: failed logins here must not lock out the other tests."""
    with tempfile.TemporaryDirectory() as tmp:
        yield from start_live(tmp, {"DATAS_LOGIN_MAX_FAILURES": "3"})


def test_wrong_passwords_say_nothing_specific_then_get_throttled(
    strict_live: Live, browsing: Browsing
) -> None:
    page = browsing.page(strict_live.base)
    page.goto("/dashboard/login")
    message = page.locator("#login-message")
    answers = []
    for username in (READER[0], "nobody-at-all"):  # a real user, then an unknown one
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "not-the-password")
        page.click("form#login button")
        message.wait_for()
        page.locator("form#login button:enabled").wait_for()
        answers.append(message.inner_text())
    assert answers[0] == answers[1] == "Wrong user name or password."
    for _ in range(3):
        page.click("form#login button")
        page.locator("form#login button:enabled").wait_for()
    assert "Too many failed logins. Try again in" in message.inner_text()
    shot(page, "login-throttled")
    page.context.close()


def test_no_request_left_the_machine(browsing: Browsing) -> None:
    assert browsing.outside == []
