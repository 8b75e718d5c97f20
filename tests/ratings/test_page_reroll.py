"""A page's rollups follow a change of its platform (a rollup row takes its platform from the page), re-rolled on
commit by a Celery task, whether the page is changed over the API, on its own admin form or in its organisation's
inline."""

import datetime as dt

import pytest
import time_machine

from core.models import QueuedTask
from publics.models import Page
from publics.services import page_update
from ratings.models import Rollup
from ratings.services import REROLL_PAGES_TASK, rollups_catch_up, rollups_rebuild
from tests.admin_forms import change_form_data, inline_prefix
from tests.factories import make_appeal
from tests.ratings.reference import expected_rows, region_day_rows_agree, stored_rows

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
URL = "/api/v1/dashboards/sla/"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rolled(world):
    """Page A (VK) with appeals on two days, page B (MAX) with one, rolled."""
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC))
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC))
    rollups_catch_up()


def platforms_of(page):
    return sorted(Rollup.objects.filter(page=page).values_list("day", "platform"))


def by_platform(api, world):
    response = api.as_user(world.admin).get(URL, {**PERIOD, "group_by": "platform"})
    assert response.status_code == 200, response.json()
    return {row["key"]: row["received"] for row in response.json()["results"]}


def queued_pages():
    return [task.kwargs["page_ids"] for task in QueuedTask.objects.filter(task=REROLL_PAGES_TASK)]


def test_a_platform_changed_over_the_api_moves_the_pages_figures_to_the_other_platform(
    api, world, rolled, django_capture_on_commit_callbacks
):
    assert by_platform(api, world) == {"vk": 2, "max": 1}

    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.admin).patch(
            f"/api/v1/pages/{world.page_a.pk}/", {"platform": "ok"}, format="json"
        )
    assert response.status_code == 200, response.json()

    assert platforms_of(world.page_a) == [(dt.date(2026, 11, 3), "ok"), (dt.date(2026, 11, 17), "ok")]
    assert by_platform(api, world) == {"ok": 2, "max": 1}
    assert stored_rows() == expected_rows(now=NOW)
    assert region_day_rows_agree()
    # Queued through the outbox, and sent; page B's rows are untouched.
    assert queued_pages() == [[world.page_a.pk]]
    assert QueuedTask.objects.get(task=REROLL_PAGES_TASK).sent_at is not None
    assert platforms_of(world.page_b) == [(dt.date(2026, 11, 12), "max")]


def test_the_rows_after_the_reroll_are_those_a_rebuild_writes(world, rolled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page_update(actor=world.admin, page=world.page_b, data={"platform": "telegram"})
    rerolled = stored_rows()

    rollups_rebuild(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), now=NOW)

    assert stored_rows() == rerolled


def test_a_change_of_other_fields_queues_nothing(world, rolled, django_capture_on_commit_callbacks):
    before = stored_rows()

    with django_capture_on_commit_callbacks(execute=True) as captured:
        page_update(actor=world.admin, page=world.page_a, data={"title": "Школа № 1 ВКонтакте", "platform": "vk"})

    assert captured == [] and queued_pages() == []
    assert stored_rows() == before


def test_a_platform_changed_in_the_organisations_inline_goes_through_the_page_service(
    client, world, rolled, django_capture_on_commit_callbacks
):
    url = f"/admin/publics/organization/{world.org_a.pk}/change/"
    client.force_login(world.admin)
    data = change_form_data(client.get(url))
    prefix = inline_prefix(data)
    (row,) = [name for name in data if name.endswith("-id") and data[name] == str(world.page_a.pk)]
    assert row.startswith(prefix)
    data[row.removesuffix("-id") + "-platform"] = "ok"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response

    page = Page.objects.get(pk=world.page_a.pk)
    assert page.platform == "ok"
    # What the table does not show is kept: the address and the secrets.
    assert (page.url, page.webhook_secret) == (world.page_a.url, world.page_a.webhook_secret) and page.url
    assert queued_pages() == [[world.page_a.pk]]
    assert platforms_of(world.page_a) == [(dt.date(2026, 11, 3), "ok"), (dt.date(2026, 11, 17), "ok")]


def test_a_page_added_in_the_organisations_inline_is_created_by_the_service(client, world, rolled):
    url = f"/admin/publics/organization/{world.org_a.pk}/change/"
    client.force_login(world.admin)
    data = change_form_data(client.get(url))
    prefix = inline_prefix(data)
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    new = {"platform": "max", "platform_id": "777001", "title": "Школа № 1 в MAX", "category": "active"}
    data.update({f"{prefix}-{index}-{name}": value for name, value in {**new, "is_active": "on"}.items()})

    response = client.post(url, data)

    assert response.status_code == 302
    page = Page.objects.get(platform="max", platform_id="777001")
    assert page.organization_id == world.org_a.pk and page.title == "Школа № 1 в MAX"
