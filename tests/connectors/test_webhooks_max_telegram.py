"""MAX and Telegram deliveries: header secrets, keys without an event id, comments, edits and deletes."""

import datetime as dt

import pytest

from appeals.models import Appeal, AppealEvent, Status
from connectors.models import AppealSource, EventStatus, PlatformEvent
from tests.connectors.conftest import DISCUSSION, T0, max_update, tg_comment, tg_private

pytestmark = pytest.mark.django_db

MAX_SECRET = {"X-Max-Bot-Api-Secret": "max_Secret-42"}
TG_SECRET = {"X-Telegram-Bot-Api-Secret-Token": "tg_secret_token-9"}


# MAX ----------------------------------------------------------------------------------------------------------


def test_max_message_created_in_a_dialog_is_a_direct_message_at_the_platforms_millisecond_time(
    max_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hook(max_page, max_update("message_created", ts=T0 * 1000 + 250), headers=MAX_SECRET)
    assert response.status_code == 200
    event = PlatformEvent.objects.get()
    assert event.event_key == "message_created:mid.0000018c2f1e3b7a"
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.external_id, appeal.author_platform_id, appeal.author_name) == (
        "direct_message",
        "mid.0000018c2f1e3b7a",
        "5550001",
        "Анна Смирнова",
    )
    assert appeal.received_at == dt.datetime.fromtimestamp(T0, tz=dt.UTC) + dt.timedelta(milliseconds=250)
    assert AppealSource.objects.get().target == {
        "kind": "dialog",
        "user_id": 5550001,
        "chat_id": 4400123,
        "mid": "mid.0000018c2f1e3b7a",
    }


def test_max_resent_update_is_one_event_and_each_edit_is_its_own(max_page, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hook(max_page, max_update("message_created"), headers=MAX_SECRET)
        hook(max_page, max_update("message_created"), headers=MAX_SECRET)
        hook(max_page, max_update("message_edited", text="Уточнение 1", ts=T0 * 1000 + 5000), headers=MAX_SECRET)
        hook(max_page, max_update("message_edited", text="Уточнение 1", ts=T0 * 1000 + 5000), headers=MAX_SECRET)
        hook(max_page, max_update("message_edited", text="Уточнение 2", ts=T0 * 1000 + 9000), headers=MAX_SECRET)
        removed = {
            "update_type": "message_removed",
            "timestamp": T0 * 1000 + 20000,
            "message_id": "mid.0000018c2f1e3b7a",
            "chat_id": 4400123,
            "user_id": 5550001,
        }
        hook(max_page, removed, headers=MAX_SECRET)
    assert PlatformEvent.objects.count() == 4
    appeal = Appeal.objects.get()
    assert appeal.text == "Добрый день, вопрос по записи"
    history = list(AppealEvent.objects.filter(appeal=appeal).order_by("id").values_list("action", flat=True))
    assert history == ["created", "author_edited", "author_edited", "author_deleted"]


def test_max_comment_created_stub_becomes_a_comment(max_page, hook, django_capture_on_commit_callbacks):
    update = max_update("comment_created", mid="mid.c0mment1", chat_type="channel")
    update["message"]["recipient"]["post_id"] = "mid.p0st77"
    with django_capture_on_commit_callbacks(execute=True):
        hook(max_page, update, headers=MAX_SECRET)
    appeal = Appeal.objects.get()
    assert appeal.channel == "comment"
    assert AppealSource.objects.get().target == {"kind": "comment", "post_id": "mid.p0st77", "mid": "mid.c0mment1"}


def test_max_channel_post_and_unknown_updates_are_not_appeals(max_page, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hook(max_page, max_update("message_created", chat_type="channel"), headers=MAX_SECRET)
        response = hook(
            max_page, {"update_type": "bot_started", "timestamp": T0 * 1000, "user": {}}, headers=MAX_SECRET
        )
    assert response.status_code == 200
    assert PlatformEvent.objects.get().status == EventStatus.IGNORED
    assert not Appeal.objects.exists()


def test_the_bots_reply_in_max_is_the_first_response(max_page, hook, django_capture_on_commit_callbacks):
    answer = max_update("message_created", mid="mid.answer1", text="Запись открыта", ts=T0 * 1000 + 60_000)
    answer["message"]["sender"] = {"user_id": 9990001, "name": "Бот больницы", "is_bot": True}
    answer["message"]["link"] = {"type": "reply", "message": {"mid": "mid.0000018c2f1e3b7a", "text": "..."}}
    with django_capture_on_commit_callbacks(execute=True):
        hook(max_page, max_update("message_created"), headers=MAX_SECRET)
        hook(max_page, answer, headers=MAX_SECRET)
    appeal = Appeal.objects.get()
    assert appeal.status == Status.ANSWERED
    assert appeal.first_responded_at == dt.datetime.fromtimestamp(T0 + 60, tz=dt.UTC)


@pytest.mark.parametrize(
    "headers", [{}, {"X-Max-Bot-Api-Secret": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": "max_Secret-42"}]
)
def test_max_wrong_or_missing_secret_header_is_403(max_page, hook, headers):
    assert hook(max_page, max_update("message_created"), headers=headers).status_code == 403
    assert not PlatformEvent.objects.exists()


def test_max_wrong_secret_is_403_even_before_the_body_is_parsed(max_page, hook):
    assert hook(max_page, None, raw="garbage", headers={}).status_code == 403
    assert hook(max_page, None, raw="garbage", headers=MAX_SECRET).status_code == 400


def test_max_update_without_mid_is_400(max_page, hook):
    update = max_update("message_created")
    del update["message"]["body"]["mid"]
    assert hook(max_page, update, headers=MAX_SECRET).status_code == 400


# Telegram -----------------------------------------------------------------------------------------------------


def test_telegram_private_message_is_a_direct_message(tg_page, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(tg_page, tg_private(), headers=TG_SECRET).status_code == 200
    event = PlatformEvent.objects.get()
    assert (event.event_key, event.event_type) == ("700001", "message")
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.external_id, appeal.author_name) == ("direct_message", "30001:41", "Пётр Иванов")


def test_telegram_comment_in_the_discussion_group_maps_to_the_channels_page(
    tg_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hook(tg_page, tg_comment(tg_page), headers=TG_SECRET)
    appeal = Appeal.objects.get()
    assert appeal.page_id == tg_page.pk
    assert (appeal.channel, appeal.external_id) == ("comment", f"{DISCUSSION['id']}:310")
    assert AppealSource.objects.get().url == "https://t.me/c/9876543210/310?thread=300"


def test_telegram_edited_message_and_channel_post(tg_page, hook, django_capture_on_commit_callbacks):
    edited = tg_private(update_id=700002)
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"].update(text="Уточняю: график на субботу", edit_date=T0 + 30)
    post = {
        "update_id": 700003,
        "channel_post": {
            "message_id": 56,
            "chat": {"id": -1001234567890, "type": "channel"},
            "date": T0,
            "text": "Новость",
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        hook(tg_page, tg_private(), headers=TG_SECRET)
        hook(tg_page, edited, headers=TG_SECRET)
        hook(tg_page, post, headers=TG_SECRET)
    appeal = Appeal.objects.get()
    edit = AppealEvent.objects.get(appeal=appeal, action="author_edited")
    assert edit.data["text"] == "Уточняю: график на субботу"
    assert PlatformEvent.objects.get(event_key="700003").status == EventStatus.IGNORED


def test_the_channels_answer_in_its_comments_is_the_first_response(tg_page, hook, django_capture_on_commit_callbacks):
    answer = tg_comment(tg_page, update_id=700102, message_id=311, text="Починим на каникулах")
    answer["message"]["from"] = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
    answer["message"]["sender_chat"] = {"id": int(tg_page.platform_id), "title": "Школа №1", "type": "channel"}
    answer["message"]["reply_to_message"] = {"message_id": 310, "chat": DISCUSSION, "date": T0, "text": "..."}
    answer["message"]["date"] = T0 + 120
    with django_capture_on_commit_callbacks(execute=True):
        hook(tg_page, tg_comment(tg_page), headers=TG_SECRET)
        hook(tg_page, answer, headers=TG_SECRET)
    appeal = Appeal.objects.get()
    assert appeal.first_responded_at == dt.datetime.fromtimestamp(T0 + 120, tz=dt.UTC)


def test_telegram_updates_of_other_kinds_are_acknowledged_and_not_stored(tg_page, hook):
    update = {"update_id": 700200, "my_chat_member": {"chat": {"id": 1}}}
    assert hook(tg_page, update, headers=TG_SECRET).status_code == 200
    assert not PlatformEvent.objects.exists()


def test_telegram_wrong_secret_is_403_and_no_update_id_is_400(tg_page, hook):
    assert hook(tg_page, tg_private(), headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}).status_code == 403
    update = tg_private()
    del update["update_id"]
    assert hook(tg_page, update, headers=TG_SECRET).status_code == 400
    assert not PlatformEvent.objects.exists()


def test_max_secret_outside_maxs_alphabet_is_refused_even_when_equal(max_page, hook):
    max_page.webhook_secret = "abc"  # MAX accepts 5 to 256 of A-Z a-z 0-9 _ -
    max_page.save()
    assert hook(max_page, max_update("message_created"), headers={"X-Max-Bot-Api-Secret": "abc"}).status_code == 403


def test_telegram_group_chatter_outside_the_posts_threads_is_not_an_appeal(
    tg_page, hook, django_capture_on_commit_callbacks
):
    update = tg_comment(tg_page, update_id=700300)
    del update["message"]["message_thread_id"]
    del update["message"]["reply_to_message"]
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(tg_page, update, headers=TG_SECRET).status_code == 200
    assert PlatformEvent.objects.get().status == EventStatus.IGNORED
    assert not Appeal.objects.exists()
