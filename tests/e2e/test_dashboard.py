"""The dashboard in a real headless browser, as a save-team member uses it.

The real API (uvicorn on a free port) over a fresh PostgreSQL database filled with a realistic
population (`tests.e2e.dashboard_seed`); Debian's chromium driven by Playwright. The agent logs
in with a key, opens an at-risk customer that has a task, claims the task, starts it (first
contact), closes it as won with a note, and sees the queue lose the task and the raw save rate
KPI move from 2 of 6 to 3 of 7. The queue shows no phone number to that key (no pii:read) and
the customer's name with tel: and mailto: links to agent A-2's key, which has it. Every page is
screenshotted into
``var/artifacts/screenshots/`` (a test artifact; two of them are in the README).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.browser import INSTALL_HINT, SCREENSHOTS, chromium_path, launch_options, live_api
from tests.e2e.dashboard_seed import Seeded, seed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        chromium_path() is None, reason=f"no chromium on this machine; {INSTALL_HINT}"
    ),
]
playwright_api = pytest.importorskip("playwright.async_api")

TIMEOUT_MS = 20_000


@pytest.fixture
async def seeded(db: AsyncEngine) -> Seeded:
    return await seed(db)


@pytest.fixture
async def page(fresh_database: str, seeded: Seeded) -> AsyncIterator[Any]:
    """A browser page on the live API, with the uncaught script errors collected on it."""
    with live_api(fresh_database) as api:
        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(**launch_options())
            context = await browser.new_context(
                base_url=api.url, viewport={"width": 1366, "height": 900}
            )
            context.set_default_timeout(TIMEOUT_MS)
            pg = await context.new_page()
            pg.errors = []
            pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
            pg.on("console", lambda m: _console(pg.errors, m))
            try:
                yield pg
            finally:
                await context.close()
                await browser.close()


def _console(errors: list[str], message: Any) -> None:
    """Script errors logged to the console (failed requests are checked where they matter)."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


async def ready(page: Any, path: str, shot: str | None = None) -> None:
    """Open ``path``, wait until its module has rendered (``body[data-ready]``), screenshot."""
    await page.goto(path)
    await loaded(page)
    if shot:
        await page.wait_for_timeout(300)  # charts draw on the next animation frame
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def loaded(page: Any) -> None:
    """Wait for the page's module to finish; fail with what it showed if it failed."""
    await page.wait_for_selector("body[data-ready]", state="attached")
    state = await page.get_attribute("body", "data-ready")
    assert state == "1", (page.url, await page.inner_text("main"), page.errors)


async def save_rate(page: Any) -> str:
    await ready(page, "/kpis")
    card = page.locator("[data-kpi='save_rate_raw'].card")
    return str(await card.inner_text())


async def test_a_save_team_member_works_a_task_from_the_at_risk_list(
    page: Any, seeded: Seeded
) -> None:
    # not logged in: every page sends the visitor to the login form
    await page.goto("/queue")
    await page.wait_for_url(re.compile(r"/login\?next="))
    await loaded(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "login.png"))
    await page.get_by_label("API key").fill("cwk_not_a_real_key_0000000000000000000000000000")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("alert").wait_for()
    assert "unknown" in await page.get_by_role("alert").inner_text()
    await page.get_by_label("API key").fill(seeded.agent_key)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/queue")
    await loaded(page)
    assert "agent A-1" in await page.locator("#who").inner_text()

    before = await save_rate(page)
    assert "2 of 6 tasks" in before, before

    await ready(page, "/queue")
    queued = await page.locator("section[aria-labelledby='h-team'] tr[data-task]").count()
    assert queued == len(seeded.task_customers) - 6  # six were closed by the seed
    assert await page.locator("tr.overdue .badge.overdue").count() > 0  # SLAs long past
    assert await page.locator("a[href^='tel:']").count() == 0  # no pii:read: nobody to call
    assert await page.get_by_role("columnheader", name="Contact", exact=True).count() == 0
    assert "need a key with pii:read" in await page.inner_text("main")
    assert seeded.phones[seeded.task_customers[1]] not in await page.inner_text("main")

    # the at-risk list: customers with an open task, most value at risk first
    await ready(page, "/at-risk?has_open_task=true")
    first = page.locator("#list tbody tr[data-customer]").first
    customer = await first.get_attribute("data-customer")
    assert customer in seeded.task_customers
    await ready(page, "/at-risk", shot="at-risk")
    await page.goto("/at-risk?has_open_task=true")
    await page.wait_for_selector("body[data-ready='1']")
    await page.locator(f"#list a:text-is('{customer}')").click()
    await page.wait_for_url(f"**/customers/{customer}")
    await page.wait_for_selector("body[data-ready='1']")
    assert await page.locator("ol.reasons li").count() == 3  # reasons in words
    assert "Contact details need a key with pii:read" in await page.inner_text("main")
    assert await page.locator("figure.chart canvas").count() == 1  # the score over time

    row = page.locator(f"tr[data-task='T-{customer}']")
    await row.get_by_role("button", name="Claim").click()
    await row.get_by_role("button", name="Start").wait_for()
    await row.get_by_role("button", name="Start").click()
    await row.get_by_label("Outcome").select_option("won")
    await row.get_by_label("Note").fill("agreed a 3-month discount")
    await row.get_by_role("button", name="Close task").click()
    await page.get_by_text("No open task.").wait_for()
    await ready(page, f"/customers/{customer}", shot="customer")
    timeline = await page.locator("section[aria-labelledby='h-timeline']").inner_text()
    assert 'in progress → won by A-1 — "agreed a 3-month discount"' in timeline

    await ready(page, "/queue", shot="queue")
    assert await page.locator(f"tr[data-task='T-{customer}']").count() == 0
    after_queue = await page.locator("section[aria-labelledby='h-team'] tr[data-task]").count()
    assert after_queue == queued - 1

    after = await save_rate(page)
    assert "3 of 7 tasks" in after, after
    assert "42.9 %" in after, after
    await page.screenshot(path=str(SCREENSHOTS / "kpis.png"), full_page=True)
    assert page.errors == []


async def test_the_queue_shows_whom_to_call_with_pii_read(page: Any, seeded: Seeded) -> None:
    """Agent A-2's key has pii:read: each task shows the customer's name with tel: and mailto:
    links (the API audits the reads); a customer without details says so."""
    await page.goto("/login")
    await page.get_by_label("API key").fill(seeded.pii_key)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/queue")
    await ready(page, "/queue", shot="queue-contacts")
    team = page.locator("section[aria-labelledby='h-team']")
    assert await team.get_by_role("columnheader", name="Contact", exact=True).count() == 1
    customer = seeded.task_customers[1]
    row = team.locator(f"tr[data-task='T-{customer}']")
    phone = seeded.phones[customer]
    call = row.get_by_role("link", name=phone)
    assert await call.get_attribute("href") == "tel:" + phone.replace(" ", "")
    mail = row.get_by_role("link", name=f"c{customer[2:]}@example.com")
    assert await mail.get_attribute("href") == f"mailto:c{customer[2:]}@example.com"
    assert f"Customer {customer[2:]}" in await row.inner_text()
    nobody = team.locator(f"tr[data-task='T-{seeded.task_customers[0]}']")
    assert "no details" in await nobody.inner_text()
    assert await team.locator("a[href^='tel:']").count() == len(seeded.phones) - 6  # 6 closed
    assert "need a key with pii:read" not in await page.inner_text("main")
    assert page.errors == []


async def test_every_page_renders_for_a_manager(page: Any, seeded: Seeded) -> None:
    """Each page loads its data without a script error; the playbook editor shows a
    validation error at its YAML path; screenshots of all of them."""
    await page.goto("/login")
    await page.get_by_label("API key").fill(seeded.admin_key)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/queue")
    await ready(page, "/segments", shot="segments")
    assert await page.locator("table.heat td").count() == 25  # the RFM grid
    await ready(page, "/model", shot="model")
    await ready(page, "/quality", shot="quality")
    assert "shop-web" in await page.inner_text("main")
    assert page.errors == []

    await ready(page, "/playbooks")
    row = page.locator("tr[data-playbook='save_call_vip']")
    await row.get_by_role("button", name="Edit").click()
    editor = page.get_by_label("Playbook document (YAML)")
    await playwright_api.expect(editor).to_have_value(re.compile("save_call_vip"))
    document = await editor.input_value()
    assert "save_call_vip" in document
    await editor.fill(document.replace("type: band_entered", "type: band_enterd", 1))
    await page.get_by_role("button", name="Validate").click()
    problem = page.locator("#yaml-errors li").first
    await problem.wait_for()
    assert "playbooks[0].trigger" in await problem.inner_text()
    await page.screenshot(path=str(SCREENSHOTS / "playbooks.png"), full_page=True)
    await row.get_by_role("button", name="Disable").click()
    await page.locator("tr[data-playbook='save_call_vip'] .badge.off").wait_for()
    assert page.errors == []
