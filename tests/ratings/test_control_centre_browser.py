"""The control centre's page in a real browser: its tables read as tables under unfold's styles (a plain <table>
there loses its spacing, and the headers ran into one another), the charts drawn. Marked `browser` like the desk's
(tests/desk/test_browser.py, whose Chromium fixture it uses); the screenshot goes under build/screenshots/."""

import datetime as dt
import itertools

from django.utils import timezone

from ratings.services import rollups_catch_up
from tests.desk.test_browser import browser, log_in, pytestmark, shot  # noqa: F401 - the fixture and the marks (browser, live database)
from tests.factories import make_appeal

URL = "/admin/ratings/ratingsnapshot/control-centre/"


def test_an_analyst_reads_the_worst_organisations_as_a_table_with_the_trend_drawn(browser, live_server, world):  # noqa: F811
    now = timezone.now()
    make_appeal(world.page_a, received_at=now - dt.timedelta(days=2))
    make_appeal(world.page_a, received_at=now - dt.timedelta(days=5))
    rollups_catch_up()
    page = log_in(browser, live_server, world.analyst_x)
    page.goto(f"{live_server.url}{URL}")

    headers = page.locator("#content-main table").first.locator("th")
    assert headers.count() == 7
    boxes = [headers.nth(i).bounding_box() for i in range(headers.count())]
    # Each header in its own column, none over the next one.
    assert all(left["x"] + left["width"] <= right["x"] + 1 for left, right in itertools.pairwise(boxes))
    first_cell = page.locator("#content-main table").first.locator("tbody td").first
    assert first_cell.inner_text() == world.org_a.short_name
    padding = page.evaluate("(cell) => parseFloat(getComputedStyle(cell).paddingLeft)", first_cell.element_handle())
    assert padding >= 8  # unfold's cell spacing applies
    assert page.locator("#content-main svg").count() == 2
    # At a laptop's width every table fits its card: no sideways scrolling.
    widths = page.evaluate(
        "() => [...document.querySelectorAll('#content-main table')]"
        ".map(table => table.parentElement.scrollWidth - table.parentElement.clientWidth)"
    )
    assert widths and max(widths) <= 1
    shot(page, "control-centre")
