"""Replies out, against a fake platform server on loopback (pytest-httpserver)."""

import datetime as dt
import json
import time
from urllib.parse import parse_qs

import pytest
from django.utils import timezone
from werkzeug import Response

from appeals.models import Appeal, Reply
from connectors import services
from connectors.models import Delivery, DeliveryStatus
from connectors.platforms import vk as vk_module
from tests.connectors.conftest import CLIENT_INFO, max_update, tg_private, vk, vk_comment, vk_message

pytestmark = pytest.mark.django_db

MAX_SECRET = {"X-Max-Bot-Api-Secret": "max_Secret-42"}
TG_SECRET = {"X-Telegram-Bot-Api-Secret-Token": "tg_secret_token-9"}


@pytest.fixture
def platform(httpserver, settings):
    settings.VK_API_BASE_URL = httpserver.url_for("/method")
    settings.MAX_API_BASE_URL = httpserver.url_for("/max")
    settings.TELEGRAM_API_BASE_URL = httpserver.url_for("/tg")
    return httpserver


def _form(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.get_data(as_text=True)).items()}


def _incoming(hook, page, payload, capture, headers=None) -> Appeal:
    with capture(execute=True):
        assert hook(page, payload, headers=headers or {}).status_code == 200
    return Appeal.objects.get(page=page)


def _reply(api, user, appeal, capture, text="Снег уберут до пятницы."):
    with capture(execute=True):
        return api.as_user(user).post(f"/api/v1/appeals/{appeal.pk}/reply/", {"text": text}, format="json")


def test_a_reply_to_a_vk_comment_is_posted_with_create_comment_and_its_guid(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_request("/method/wall.createComment", method="POST").respond_with_json(
        {"response": {"comment_id": 777, "parents_stack": []}}
    )
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    response = _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    (request, _), *_ = platform.log
    sent = _form(request)
    delivery = Delivery.objects.get()
    assert sent == {
        "owner_id": f"-{vk_page.platform_id}",
        "post_id": "88",
        "from_group": vk_page.platform_id,
        "reply_to_comment": "501",
        "message": "Снег уберут до пятницы.",
        "guid": delivery.idempotency_key,
        "access_token": "vk1.a.community-token",
        "v": "5.199",
    }
    assert delivery.idempotency_key == services.idempotency_key(Reply.objects.get())
    assert (delivery.status, delivery.attempts, delivery.platform_message_id) == ("delivered", 1, "777")
    shown = api.as_user(world.operator_a).get(f"/api/v1/appeals/{appeal.pk}/platform/").json()
    assert shown["delivery_status"] == "delivered"
    assert shown["url"].startswith("https://vk.com/wall-")
    # Our comment comes back as a wall_reply_new from the community: recognised, not a second reply.
    echo = vk_comment(
        vk_page, comment_id=777, from_id=-int(vk_page.platform_id), text="Снег уберут до пятницы.", reply_to_comment=501
    )
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", echo))
    assert Reply.objects.count() == 1


def test_a_reply_to_a_vk_message_uses_messages_send_with_random_id_and_its_echo_is_ignored(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_request("/method/messages.send", method="POST").respond_with_json({"response": 9100})
    message = {"message": vk_message(), "client_info": CLIENT_INFO}
    appeal = _incoming(hook, vk_page, vk(vk_page, "message_new", message), django_capture_on_commit_callbacks)
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks, text="Кружок работает.")
    sent = _form(platform.log[0][0])
    delivery = Delivery.objects.get()
    assert sent["peer_id"] == "7002" and sent["reply_to"] == "9001"
    assert sent["random_id"] == delivery.idempotency_key
    assert int(sent["random_id"]) == vk_module.random_id(services.idempotency_key(Reply.objects.get()))
    echo = vk_message(
        message_id=9200,
        from_id=-int(vk_page.platform_id),
        out=1,
        peer_id=7002,
        text="Кружок работает.",
        random_id=int(sent["random_id"]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "message_reply", echo))
    assert Reply.objects.count() == 1


def test_a_transient_failure_is_retried_with_backoff_and_the_same_key(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_oneshot_request("/method/wall.createComment").respond_with_data("Bad gateway", status=502)
    platform.expect_request("/method/wall.createComment").respond_with_json({"response": {"comment_id": 778}})
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error_code) == ("pending", 1, "502")
    first_retry = delivery.next_attempt_at - delivery.updated_at
    assert dt.timedelta(seconds=5) < first_retry <= dt.timedelta(seconds=30)
    # Not due yet: nothing is sent.
    assert services.delivery_attempt(delivery_id=delivery.pk) is not None
    assert len(platform.log) == 1
    assert services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.platform_message_id) == ("delivered", 2, "778")
    guids = [_form(request)["guid"] for request, _ in platform.log]
    assert guids == [delivery.idempotency_key] * 2


@pytest.mark.parametrize("code", [6, 9, 10])
def test_vk_error_codes_6_9_10_are_transient(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks, code
):
    platform.expect_request("/method/wall.createComment").respond_with_json(
        {"error": {"error_code": code, "error_msg": "Too many requests per second", "request_params": []}}
    )
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code) == ("pending", f"vk_{code}")


def test_retries_are_bounded(world, vk_page, hook, api, platform, django_capture_on_commit_callbacks):
    platform.expect_request("/method/wall.createComment").respond_with_data("down", status=503)
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    later = timezone.now()
    for _ in range(services.DELIVERY_MAX_ATTEMPTS + 2):
        later += dt.timedelta(hours=1)
        services.delivery_attempt(delivery_id=delivery.pk, now=later)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", services.DELIVERY_MAX_ATTEMPTS)
    assert len(platform.log) == services.DELIVERY_MAX_ATTEMPTS


def test_a_permanent_failure_is_shown_to_the_operator_who_can_retry_it(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_oneshot_request("/method/wall.createComment").respond_with_json(
        {"error": {"error_code": 15, "error_msg": "Access denied: no access to call this method"}}
    )
    platform.expect_request("/method/wall.createComment").respond_with_json({"response": {"comment_id": 779}})
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code) == ("failed", "vk_15")
    client = api.as_user(world.operator_a)
    shown = client.get(f"/api/v1/appeals/{appeal.pk}/platform/").json()
    assert shown["delivery_status"] == "failed"
    assert shown["error"] == "Access denied: no access to call this method"
    listed = client.get("/api/v1/deliveries/", {"status": "failed"}).json()
    assert [row["id"] for row in listed["results"]] == [delivery.pk]
    assert listed["results"][0]["delivery_status"] == "failed"
    # Who may not act on the appeal cannot retry it: outside the scope 404, read-only 403.
    assert api.as_user(world.operator_b).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 404
    assert api.as_user(world.stranger).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 404
    assert api.as_user(world.auditor_x).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 403
    assert api.as_user(world.integration_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.operator_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.platform_message_id) == ("delivered", "779")
    # Delivered: another retry is a conflict.
    assert api.as_user(world.operator_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 409


def test_an_unreachable_platform_is_a_transient_network_failure(
    world, vk_page, hook, api, settings, django_capture_on_commit_callbacks
):
    settings.VK_API_BASE_URL = "http://127.0.0.1:9/method"  # discard port: connection refused
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code) == ("pending", "network")


def test_telegram_send_message_with_reply_parameters_and_429_retry_after(
    world, tg_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_oneshot_request("/tg/bot123456:TEST-bot-token/sendMessage").respond_with_json(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
        status=429,
    )
    platform.expect_request("/tg/bot123456:TEST-bot-token/sendMessage").respond_with_json(
        {"ok": True, "result": {"message_id": 42, "date": 1, "chat": {"id": 30001, "type": "private"}}}
    )
    appeal = _incoming(hook, tg_page, tg_private(), django_capture_on_commit_callbacks, headers=TG_SECRET)
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks, text="Приёмная работает с 9 до 18.")
    body = json.loads(platform.log[0][0].get_data())
    assert body == {
        "chat_id": 30001,
        "text": "Приёмная работает с 9 до 18.",
        "reply_parameters": {"message_id": 41, "allow_sending_without_reply": True},
    }
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code) == ("pending", "telegram_429")
    assert delivery.next_attempt_at - delivery.updated_at >= dt.timedelta(seconds=6)
    services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.platform_message_id) == ("delivered", "42")


def test_telegram_timeout_after_sending_is_not_retried_blindly(
    world, tg_page, hook, api, platform, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_TIMEOUT_SECONDS = 1

    def slow(request):
        time.sleep(1.5)
        return Response(json.dumps({"ok": True, "result": {"message_id": 1}}), content_type="application/json")

    platform.expect_request("/tg/bot123456:TEST-bot-token/sendMessage").respond_with_handler(slow)
    appeal = _incoming(hook, tg_page, tg_private(), django_capture_on_commit_callbacks, headers=TG_SECRET)
    _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error_code) == ("failed", "unknown_outcome")
    assert "check the page" in delivery.last_error
    time.sleep(0.8)  # let the slow handler finish, so its request is not logged into the next test


def test_max_dialog_reply_links_the_citizens_message(
    world, max_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_request("/max/messages", method="POST", query_string="user_id=5550001").respond_with_json(
        {"message": {"body": {"mid": "mid.ourreply1", "text": "..."}, "timestamp": 1}}
    )
    appeal = _incoming(hook, max_page, max_update("message_created"), django_capture_on_commit_callbacks, MAX_SECRET)
    _reply(api, world.operator_b, appeal, django_capture_on_commit_callbacks, text="Запись по телефону.")
    request = platform.log[0][0]
    assert request.headers["Authorization"] == "max-bot-token"
    assert json.loads(request.get_data()) == {
        "text": "Запись по телефону.",
        "link": {"type": "reply", "mid": "mid.0000018c2f1e3b7a"},
    }
    assert Delivery.objects.get().platform_message_id == "mid.ourreply1"


def test_max_comment_reply_goes_to_the_posts_comments(
    world, max_page, hook, api, platform, django_capture_on_commit_callbacks
):
    platform.expect_request("/max/messages/mid.p0st77/comments", method="POST").respond_with_json(
        {"message": {"body": {"mid": "mid.ourcomment"}}}
    )
    update = max_update("comment_created", mid="mid.c0mment1", chat_type="channel")
    update["message"]["recipient"]["post_id"] = "mid.p0st77"
    appeal = _incoming(hook, max_page, update, django_capture_on_commit_callbacks, MAX_SECRET)
    _reply(api, world.operator_b, appeal, django_capture_on_commit_callbacks)
    assert json.loads(platform.log[0][0].get_data())["link"] == {"type": "reply", "mid": "mid.c0mment1"}
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_rate_limits_per_page_and_per_chat_defer_without_calling(world, vk_page, tg_page, platform):
    from tests.factories import make_appeal

    platform.expect_request("/method/wall.createComment").respond_with_json({"response": {"comment_id": 1}})
    platform.expect_request("/tg/bot123456:TEST-bot-token/sendMessage").respond_with_json(
        {"ok": True, "result": {"message_id": 5}}
    )
    now = timezone.now().replace(microsecond=100_000)

    def delivery(page, target, rate_key="", method="wall.createComment"):
        appeal = make_appeal(page)
        reply = Reply.objects.create(appeal=appeal, kind="public", text="ответ", created_at=now, hash="x")
        return Delivery.objects.create(
            reply=reply,
            appeal=appeal,
            page=page,
            platform=page.platform,
            method=method,
            params=target,
            rate_key=rate_key,
            idempotency_key=f"k{reply.pk}",
            next_attempt_at=now,
        )

    vk_deliveries = [delivery(vk_page, {"owner_id": -1, "post_id": 1}) for _ in range(vk_module.PAGE_RATE + 1)]
    waits = [services.delivery_attempt(delivery_id=d.pk, now=now) for d in vk_deliveries]
    assert waits[: vk_module.PAGE_RATE] == [None] * vk_module.PAGE_RATE
    assert 0 < waits[-1] <= 1
    assert len(platform.log) == vk_module.PAGE_RATE
    # Telegram: about one message per second per chat.
    first, second = (delivery(tg_page, {"chat_id": 1, "text": "x"}, "chat:1", "sendMessage") for _ in range(2))
    other_chat = delivery(tg_page, {"chat_id": 2, "text": "x"}, "chat:2", "sendMessage")
    assert services.delivery_attempt(delivery_id=first.pk, now=now) is None
    assert services.delivery_attempt(delivery_id=second.pk, now=now) > 0
    assert services.delivery_attempt(delivery_id=other_chat.pk, now=now) is None
    assert services.delivery_attempt(delivery_id=second.pk, now=now + dt.timedelta(seconds=1)) is None
    assert Delivery.objects.get(pk=second.pk).status == DeliveryStatus.DELIVERED


def test_a_reply_to_an_appeal_pushed_through_the_api_has_nothing_to_deliver(
    world, api, django_capture_on_commit_callbacks
):
    from tests.factories import make_appeal

    appeal = make_appeal(world.page_a)
    assert _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks).status_code == 200
    assert not Delivery.objects.exists()


def test_deliveries_lost_with_the_broker_are_picked_up_when_due(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    from unittest import mock

    from kombu.exceptions import OperationalError

    platform.expect_request("/method/wall.createComment").respond_with_json({"response": {"comment_id": 3}})
    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    with mock.patch("celery.app.task.Task.apply_async", side_effect=OperationalError("down")):
        _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and not platform.log
    assert services.deliveries_pick_up(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_our_reply_coming_back_before_its_message_id_is_known_is_the_echo(
    world, vk_page, hook, api, platform, django_capture_on_commit_callbacks
):
    from unittest import mock

    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    with mock.patch("connectors.tasks.deliver_reply.apply_async"):
        _reply(api, world.operator_a, appeal, django_capture_on_commit_callbacks, text="Уберём завтра.")
    Delivery.objects.update(status="sending")  # the call is under way: VK already sends the callback
    echo = vk_comment(
        vk_page, comment_id=780, from_id=-int(vk_page.platform_id), text="Уберём завтра.", reply_to_comment=501
    )
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", echo))
    assert Reply.objects.count() == 1


def test_a_reply_rolled_back_leaves_no_delivery(world, vk_page, hook, django_capture_on_commit_callbacks):
    from unittest import mock

    from appeals import services as appeal_services

    appeal = _incoming(
        hook, vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)), django_capture_on_commit_callbacks
    )
    with (
        mock.patch("appeals.services.lifecycle.sla.refresh_tracking", side_effect=RuntimeError("crash after the hook")),
        pytest.raises(RuntimeError),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        appeal_services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ")
    assert not callbacks
    assert not Delivery.objects.exists() and not Reply.objects.exists()
