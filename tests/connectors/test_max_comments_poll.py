"""MAX pushes no comment events: the beat task reads the comments of recent channel posts."""

import pytest
from django.utils import timezone

from appeals.models import Appeal
from connectors import services
from connectors.models import PageConnector, PlatformEvent
from tests.connectors.conftest import T0

pytestmark = pytest.mark.django_db


def _comment(mid, text, ts):
    return {
        "sender": {"user_id": 5550009, "name": "Олег Кузнецов", "is_bot": False},
        "recipient": {"chat_id": -72000123456, "chat_type": "channel"},
        "timestamp": ts,
        "body": {"mid": mid, "seq": 1, "text": text},
    }


def test_polling_stores_new_comments_once_and_makes_appeals(
    max_page, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.MAX_API_BASE_URL = httpserver.url_for("/max")
    PageConnector.objects.create(page=max_page, poll_comments=True)
    httpserver.expect_request(
        "/max/messages", method="GET", query_string={"chat_id": max_page.platform_id, "count": "10"}
    ).respond_with_json(
        {"messages": [{"body": {"mid": "mid.post1", "text": "Новость"}}, {"body": {"mid": "mid.post2", "text": "Ещё"}}]}
    )
    httpserver.expect_request("/max/messages/mid.post1/comments").respond_with_json(
        {"comments": [_comment("mid.cm1", "Когда приём у кардиолога?", T0 * 1000)], "marker": None}
    )
    httpserver.expect_request("/max/messages/mid.post2/comments").respond_with_json({"comments": []})
    with django_capture_on_commit_callbacks(execute=True):
        assert services.max_comments_poll() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.max_comments_poll() == 0  # read again: deduplicated on the comment's id
    event = PlatformEvent.objects.get()
    assert (event.event_key, event.status) == ("comment_created:mid.cm1", "processed")
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.external_id, appeal.author_name) == ("comment", "mid.cm1", "Олег Кузнецов")
    assert appeal.platform_source.target == {"kind": "comment", "post_id": "mid.post1", "mid": "mid.cm1"}
    assert PageConnector.objects.get().comments_polled_at is not None
    # The second poll asked only for comments after the first (minus the overlap).
    second_poll = [r for r, _ in httpserver.log if r.path == "/max/messages/mid.post1/comments"][1]
    assert int(second_poll.args["after"]) < int(timezone.now().timestamp() * 1000)


def test_pages_that_do_not_enable_polling_are_not_read(max_page, httpserver, settings):
    settings.MAX_API_BASE_URL = httpserver.url_for("/max")
    PageConnector.objects.create(page=max_page, poll_comments=False)
    assert services.max_comments_poll() == 0
    assert not httpserver.log


def test_a_failing_channel_does_not_stop_the_others(max_page, world, httpserver, settings):
    from tests.factories import PageFactory

    settings.MAX_API_BASE_URL = httpserver.url_for("/max")
    other = PageFactory(organization=world.org_b, platform="max", platform_id="-72000999", access_token="t2")
    PageConnector.objects.create(page=max_page, poll_comments=True)
    PageConnector.objects.create(page=other, poll_comments=True)
    httpserver.expect_request(
        "/max/messages", query_string={"chat_id": max_page.platform_id, "count": "10"}
    ).respond_with_data("no", status=500)
    httpserver.expect_request("/max/messages", query_string={"chat_id": "-72000999", "count": "10"}).respond_with_json(
        {"messages": []}
    )
    assert services.max_comments_poll() == 0
    assert PageConnector.objects.get(page=other).comments_polled_at is not None
    assert PageConnector.objects.get(page=max_page).comments_polled_at is None


def test_polling_follows_the_marker_to_the_next_page_of_comments(
    max_page, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.MAX_API_BASE_URL = httpserver.url_for("/max")
    PageConnector.objects.create(page=max_page, poll_comments=True)
    httpserver.expect_request("/max/messages").respond_with_json({"messages": [{"body": {"mid": "mid.post1"}}]})
    httpserver.expect_request(
        "/max/messages/mid.post1/comments", query_string={"count": "100", "marker": "next-1"}
    ).respond_with_json({"comments": [_comment("mid.cm2", "Второй", T0 * 1000 + 1)], "marker": None})
    httpserver.expect_request("/max/messages/mid.post1/comments", query_string={"count": "100"}).respond_with_json(
        {"comments": [_comment("mid.cm1", "Первый", T0 * 1000)], "marker": "next-1"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.max_comments_poll() == 2
    assert sorted(Appeal.objects.values_list("external_id", flat=True)) == ["mid.cm1", "mid.cm2"]
