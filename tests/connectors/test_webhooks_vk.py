"""VK Callback API deliveries: confirmation, storage before the answer, dedupe, mapping to appeals."""

import datetime as dt

import pytest

from appeals.models import Appeal, AppealEvent, EventAction, Reply, Status
from connectors.models import AppealSource, EventStatus, PlatformEvent
from tests.connectors.conftest import CLIENT_INFO, T0, vk, vk_comment, vk_message

pytestmark = pytest.mark.django_db

AT_T0 = dt.datetime.fromtimestamp(T0, tz=dt.UTC)


def test_confirmation_answers_the_pages_string_as_plain_text_and_stores_nothing(vk_page, hook):
    response = hook(vk_page, {"type": "confirmation", "group_id": int(vk_page.platform_id), "secret": "vk-secret-Ab3"})
    assert response.status_code == 200
    assert response.content == b"5f1a9c2e"
    assert response["Content-Type"].startswith("text/plain")
    assert not PlatformEvent.objects.exists()


def test_a_comment_is_stored_answered_ok_and_becomes_an_appeal_once_processed(
    vk_page, hook, django_capture_on_commit_callbacks
):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page), event_id="e5d1c0ffee")
    with django_capture_on_commit_callbacks(execute=True):
        response = hook(vk_page, payload)
    assert response.status_code == 200 and response.content == b"ok"
    event = PlatformEvent.objects.get()
    assert (event.platform, event.event_key, event.event_type) == ("vk", "e5d1c0ffee", "wall_reply_new")
    assert event.payload == payload and event.status == EventStatus.PROCESSED and event.processed_at
    appeal = Appeal.objects.get()
    assert event.appeal_id == appeal.pk
    assert (appeal.channel, appeal.kind, appeal.external_id) == ("comment", "message", "comment:501")
    assert appeal.received_at == AT_T0  # the platform's time, not ours
    assert appeal.author_platform_id == "7001"
    assert appeal.text == "Когда уберут снег во дворе на Лесной, 5?"
    source = AppealSource.objects.get(appeal=appeal)
    assert source.url == f"https://vk.com/wall-{vk_page.platform_id}_88?reply=501"
    assert source.target == {"kind": "comment", "owner_id": -int(vk_page.platform_id), "post_id": 88, "comment_id": 501}


def test_the_post_owner_may_come_as_post_owner_id_alone(vk_page, hook, django_capture_on_commit_callbacks):
    comment = vk_comment(vk_page, comment_id=777)
    del comment["owner_id"]
    comment["post_owner_id"] = -int(vk_page.platform_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(vk_page, vk(vk_page, "wall_reply_new", comment)).content == b"ok"
    assert AppealSource.objects.get().target["owner_id"] == -int(vk_page.platform_id)


def test_a_resent_event_is_acknowledged_and_ignored_even_with_a_retry_counter(
    vk_page, hook, django_capture_on_commit_callbacks
):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page), event_id="same-event")
    with django_capture_on_commit_callbacks(execute=True):
        first = hook(vk_page, payload)
        again = hook(vk_page, payload, headers={"X-Retry-Counter": "1"})
    assert first.content == again.content == b"ok"
    assert PlatformEvent.objects.count() == 1
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize("shape", ["5.103+", "earlier"])
def test_message_new_in_both_shapes_becomes_a_direct_message(vk_page, hook, django_capture_on_commit_callbacks, shape):
    message = vk_message()
    obj = {"message": message, "client_info": CLIENT_INFO} if shape == "5.103+" else message
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(vk_page, vk(vk_page, "message_new", obj)).content == b"ok"
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.external_id, appeal.author_platform_id) == ("direct_message", "message:9001", "7002")
    assert AppealSource.objects.get().conversation == "peer:7002"


def test_edits_restores_and_deletes_go_onto_the_history_and_keep_the_original_text(
    vk_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
        hook(vk_page, vk(vk_page, "wall_reply_edit", vk_comment(vk_page, text="Исправлено: Лесная, 7")))
        hook(
            vk_page,
            vk(
                vk_page,
                "wall_reply_delete",
                {"owner_id": -int(vk_page.platform_id), "id": 501, "post_id": 88, "deleter_id": 7001},
            ),
        )
        hook(vk_page, vk(vk_page, "wall_reply_restore", vk_comment(vk_page, text="Исправлено: Лесная, 7")))
        hook(
            vk_page,
            vk(
                vk_page,
                "wall_reply_delete",
                {"owner_id": -int(vk_page.platform_id), "id": 501, "post_id": 88, "user_id": 7001},
            ),
        )
    appeal = Appeal.objects.get()
    assert appeal.text == "Когда уберут снег во дворе на Лесной, 5?"
    events = list(AppealEvent.objects.filter(appeal=appeal).order_by("id").values_list("action", "data"))
    actions = [action for action, _ in events]
    assert actions == ["created", "author_edited", "author_deleted", "author_edited", "author_deleted"]
    assert events[1][1]["text"] == "Исправлено: Лесная, 7" and events[1][1]["restored"] is False
    assert events[2][1]["deleted_by"] == "7001"
    assert events[3][1]["restored"] is True
    assert events[4][1]["deleted_by"] == "7001"


def test_an_edit_of_a_comment_never_seen_is_ignored(vk_page, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_edit", vk_comment(vk_page, comment_id=999)))
    event = PlatformEvent.objects.get()
    assert event.status == EventStatus.IGNORED and event.outcome == "no appeal for this message"


def test_the_communitys_comment_answer_is_the_first_response_at_the_platforms_time(
    vk_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
        answer = vk_comment(
            vk_page,
            comment_id=502,
            from_id=-int(vk_page.platform_id),
            text="Уберём до пятницы.",
            reply_to_comment=501,
            date=T0 + 3600,
        )
        hook(vk_page, vk(vk_page, "wall_reply_new", answer))
    appeal = Appeal.objects.get()
    assert appeal.status == Status.ANSWERED
    assert appeal.first_responded_at == AT_T0 + dt.timedelta(hours=1)
    reply = Reply.objects.get(appeal=appeal)
    assert (reply.kind, reply.text, reply.author_id) == ("public", "Уберём до пятницы.", None)
    assert not appeal.deliveries.exists()  # it came from the platform: nothing goes back


def test_the_communitys_private_answer_message_reply_answers_the_conversation(
    vk_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "message_new", {"message": vk_message(), "client_info": CLIENT_INFO}))
        reply = vk_message(
            message_id=9005,
            from_id=-int(vk_page.platform_id),
            text="Кружок работает с понедельника.",
            date=T0 + 600,
            out=1,
            peer_id=7002,
        )
        hook(vk_page, vk(vk_page, "message_reply", reply))
    appeal = Appeal.objects.get()
    assert appeal.first_responded_at == AT_T0 + dt.timedelta(minutes=10)
    assert EventAction.REPLIED in appeal.events.values_list("action", flat=True)


def test_an_unknown_event_type_is_acknowledged_and_not_stored(vk_page, hook):
    response = hook(vk_page, vk(vk_page, "group_join", {"user_id": 1, "join_type": "join"}))
    assert response.status_code == 200 and response.content == b"ok"
    assert not PlatformEvent.objects.exists()


def test_acknowledging_costs_one_select_and_one_insert(vk_page, hook, django_assert_num_queries):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    with django_assert_num_queries(2):
        assert hook(vk_page, payload).content == b"ok"


# Bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["wrong", "", "vk-secret-Ab"])
def test_a_wrong_secret_is_403_and_stores_nothing(vk_page, hook, secret):
    response = hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page), secret=secret))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not PlatformEvent.objects.exists()


def test_a_missing_secret_is_403(vk_page, hook):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    del payload["secret"]
    assert hook(vk_page, payload).status_code == 403


def test_another_communitys_group_id_is_403(vk_page, hook):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    payload["group_id"] = 1
    assert hook(vk_page, payload).status_code == 403
    assert not PlatformEvent.objects.exists()


def test_a_page_without_a_secret_accepts_nothing(vk_page, hook):
    vk_page.webhook_secret = ""
    vk_page.save()
    assert hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page), secret="")).status_code == 403


@pytest.mark.parametrize("raw", ["not json", "{", "[1, 2]", '"ok"', ""])
def test_a_body_that_is_not_a_json_object_is_400(vk_page, hook, raw):
    response = hook(vk_page, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_known_event_without_event_id_is_400(vk_page, hook):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    del payload["event_id"]
    assert hook(vk_page, payload).status_code == 400


def test_a_body_over_one_megabyte_is_413_before_it_is_read(vk_page, hook):
    big = vk(vk_page, "wall_reply_new", vk_comment(vk_page, text="я" * 600_000))
    response = hook(vk_page, big)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not PlatformEvent.objects.exists()


def test_413_is_decided_on_content_length_alone(vk_page, rf):
    from connectors.webhooks import webhook

    request = rf.post("/", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(2 * 1024 * 1024)

    def never(*args):
        raise AssertionError("the body was read")

    request.read = never
    assert webhook(request, "vk", vk_page.pk).status_code == 413


@pytest.mark.parametrize("path", ["vk/987654321", f"vk/{2**70}", "ok/{pk}", "facebook/{pk}"])
def test_an_unknown_page_or_platform_is_404(vk_page, hook, path):
    url = f"/api/v1/webhooks/{path.format(pk=vk_page.pk)}/"
    response = hook.client.post(url, data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_page_of_another_platform_than_the_urls_is_404(vk_page, hook):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    response = hook(vk_page, payload, platform="telegram")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_inactive_page_is_404(vk_page, hook):
    vk_page.is_active = False
    vk_page.save()
    assert hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page))).status_code == 404


def test_get_is_405_in_the_json_shape(vk_page, hook):
    response = hook.client.get(f"/api/v1/webhooks/vk/{vk_page.pk}/")
    assert response.status_code == 405 and response.json()["status"] == 405


def test_a_malformed_known_event_is_stored_and_fails_visibly_not_silently(
    vk_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(vk_page, vk(vk_page, "wall_reply_new", {"id": 5, "text": "без даты"})).content == b"ok"
    event = PlatformEvent.objects.get()
    assert event.status == EventStatus.FAILED and "from_id" in event.error
    assert not Appeal.objects.exists()


def test_a_private_message_edit_is_recorded_and_the_communitys_own_is_not(
    vk_page, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "message_new", {"message": vk_message(), "client_info": CLIENT_INFO}))
        hook(
            vk_page,
            vk(
                vk_page,
                "message_edit",
                vk_message(text="Почему не работает кружок робототехники?", update_time=T0 + 90),
            ),
        )
        own = vk_message(message_id=9010, from_id=-int(vk_page.platform_id), out=1, peer_id=7002, text="Исправлено")
        hook(vk_page, vk(vk_page, "message_edit", own))
    appeal = Appeal.objects.get()
    edit = AppealEvent.objects.get(appeal=appeal, action="author_edited")
    assert edit.data["text"] == "Почему не работает кружок робототехники?"
    assert edit.created_at == AT_T0 + dt.timedelta(seconds=90)
    assert PlatformEvent.objects.filter(status=EventStatus.IGNORED).count() == 1


def test_a_community_comment_that_answers_nothing_and_an_answer_to_a_closed_appeal_are_ignored(
    vk_page, hook, django_capture_on_commit_callbacks
):
    own = vk_comment(vk_page, comment_id=600, from_id=-int(vk_page.platform_id), text="Анонс: субботник")
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", own))
    assert PlatformEvent.objects.get().outcome == "the community's comment answers no comment"
    assert not Appeal.objects.exists()
    from appeals.services import appeal_reject
    from core.access import SYSTEM

    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
    appeal_reject(actor=SYSTEM, appeal_id=Appeal.objects.get().pk, reason="spam")
    answer = vk_comment(vk_page, comment_id=601, from_id=-int(vk_page.platform_id), text="Ответ", reply_to_comment=501)
    with django_capture_on_commit_callbacks(execute=True):
        hook(vk_page, vk(vk_page, "wall_reply_new", answer))
    assert PlatformEvent.objects.order_by("-id").first().outcome == "the appeal is not open"
    assert not Reply.objects.exists()
