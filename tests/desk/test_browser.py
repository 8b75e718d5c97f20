"""The desk in a real browser (Playwright driving Debian's Chromium at /usr/bin/chromium, never a downloaded one).

Marked `browser`: CI (OTKLIK_NO_SKIP=1) runs them and fails if they cannot run; elsewhere they skip, with the
reason, only where /usr/bin/chromium is absent. Screenshots of the queue, the appeal page and the start page are
saved under build/screenshots/ (not committed).
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from appeals import services
from appeals.models import Appeal
from desk.models import ResponseTemplate
from tests.conftest import NO_SKIP
from tests.factories import make_appeal

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),  # the live server reads what the test writes
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not NO_SKIP, reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    # Set for the test only: leaked into os.environ it would reach other tests' subprocesses (check --deploy).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def log_in(browser, live_server, user, *, width: int = 1366, height: int = 768):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="ru-RU")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def no_inner_scroll(page) -> bool:
    """The queue's table fits its box (unfold wraps it in a scrolling one)."""
    box = page.locator("#result_list").element_handle()
    return page.evaluate("(table) => table.parentElement.scrollWidth <= table.parentElement.clientWidth + 1", box)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_operator_works_an_appeal_from_the_queue_to_the_reply(browser, live_server, world):
    now = timezone.now()
    later = make_appeal(world.page_a, received_at=now - dt.timedelta(minutes=5), text="Не горит фонарь у входа")
    urgent = make_appeal(world.page_a, received_at=now - dt.timedelta(hours=1), text="Течёт крыша в спортзале")
    # Outside office hours both deadlines fall at the same opening hour: make the urgency explicit (the stored
    # running deadline is what the queue orders by).
    Appeal.objects.filter(pk=urgent.pk).update(due_at=now + dt.timedelta(hours=2))
    Appeal.objects.filter(pk=later.pk).update(due_at=now + dt.timedelta(hours=20))
    make_appeal(world.page_b, received_at=now - dt.timedelta(hours=2), text="Обращение другой организации")
    ResponseTemplate.objects.create(
        organization=world.org_a, title="Благодарность", text="{citizen_name}, спасибо! Мастер придёт сегодня."
    )

    page = log_in(browser, live_server, world.operator_a)
    assert page.locator("canvas.chart").count() == 1  # the start page's chart
    shot(page, "start")

    page.goto(f"{live_server.url}/admin/appeals/appeal/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert "Течёт крыша" in rows.nth(0).inner_text() and "Не горит фонарь" in rows.nth(1).inner_text()
    assert "Обращение другой организации" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table = page.locator("#result_list")
    assert page.evaluate(
        "(t) => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1", table.element_handle()
    )
    shot(page, "queue")

    page.click(f"a[href$='/admin/appeals/appeal/{urgent.pk}/change/']")
    page.wait_for_selector("#desk-timeline")
    assert "Течёт крыша в спортзале" in page.inner_text(".desk-citizen")
    assert "Создано" in page.inner_text("#desk-timeline") or "создано" in page.inner_text("#desk-timeline").lower()
    page.select_option("select[name=template]", label="Благодарность")
    assert "спасибо! Мастер придёт сегодня." in page.input_value("textarea[name=text]")
    page.click("button[value=reply]")
    page.wait_for_selector(".desk-citizen")
    assert "Ответ опубликован" in page.content()
    assert "Мастер придёт сегодня." in page.inner_text("#desk-timeline")
    # Answered, the operator closes it: its deadlines are met.
    page.click("#desk-actions details:has(input[value=close]) summary")
    page.click("#desk-actions details:has(input[value=close]) button[type=submit]")
    page.wait_for_selector(".desk-citizen")
    assert "Обращение закрыто" in page.content()
    assert page.inner_text(".desk-citizen .desk-badge") == "выполнено"
    shot(page, "appeal")
    assert later.pk != urgent.pk


def test_a_second_operator_cannot_open_the_appeal_by_its_url(browser, live_server, world):
    appeal = make_appeal(world.page_a, text="Течёт крыша в спортзале")
    page = log_in(browser, live_server, world.operator_b)
    page.goto(f"{live_server.url}/admin/appeals/appeal/{appeal.pk}/change/")
    assert f"Обращение №{appeal.pk} не найдено." in page.content()
    assert "Течёт крыша" not in page.content()


def test_the_queue_has_no_horizontal_scroll_at_1366_with_long_texts(browser, live_server, world):
    for n in range(12):
        make_appeal(
            world.page_a, text="Очень длинное обращение " * 20 + str(n), author_name="Константин Константинопольский"
        )
    # The longest labels: «ожидание ответа гражданина» (status) and «под угрозой» with a long overdue time.
    waiting = make_appeal(world.page_a, text="Ждём ответа")
    services.appeal_wait(actor=world.operator_a, appeal_id=waiting.pk, reason="Уточнить адрес")
    Appeal.objects.filter(pk=make_appeal(world.page_a).pk).update(
        sla_state="at_risk", sla_warn_from=timezone.now() - dt.timedelta(hours=1)
    )
    Appeal.objects.filter(pk=make_appeal(world.page_a).pk).update(
        sla_state="breached", due_at=timezone.now() - dt.timedelta(days=19, hours=23, minutes=59)
    )
    page = log_in(browser, live_server, world.admin, width=1366, height=768)
    page.goto(f"{live_server.url}/admin/appeals/appeal/")
    table = page.locator("#result_list")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "(t) => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1", table.element_handle()
    )
