"""The desk: who sees what in the queue and on the appeal page, each button's transition and its refusal, the bulk
actions, and the start page. The same scope as the API (core.access), the same services (appeals.actions)."""

import datetime as dt

import pytest
from django.utils import timezone

from appeals import services
from appeals.models import Appeal, Reply
from connectors.models import Delivery
from desk.models import ResponseTemplate
from publics.models import Membership, Region
from tests.desk.test_masking import NAME, change_url
from tests.factories import make_appeal, region

pytestmark = pytest.mark.django_db

QUEUE = "/admin/appeals/appeal/"


def act_url(appeal) -> str:
    return f"/admin/appeals/appeal/{appeal.pk}/act/"


def soon(hours: float = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# The queue ---------------------------------------------------------------------------------------------------


def test_an_operator_sees_only_their_organisations_open_appeals_most_urgent_first(client, world):
    later = make_appeal(world.page_a, received_at=soon(0), text="Позднее обращение")
    urgent = make_appeal(world.page_a, received_at=soon(3), text="Срочное обращение")
    closed = make_appeal(world.page_a, received_at=soon(5), text="Закрытое обращение")
    services.appeal_reject(actor=world.operator_a, appeal_id=closed.pk, reason="spam")
    make_appeal(world.page_b, received_at=soon(4), text="Чужое обращение")
    # Received outside working hours, both would be due at the same moment: the urgent one is due an hour sooner.
    later.refresh_from_db()
    Appeal.objects.filter(pk=urgent.pk).update(due_at=later.due_at - dt.timedelta(hours=1))
    client.force_login(world.operator_a)
    page = client.get(QUEUE).content.decode()
    assert "Чужое обращение" not in page and "Закрытое обращение" not in page
    assert page.index("Срочное обращение") < page.index("Позднее обращение")
    assert f"{QUEUE}{urgent.pk}/change/" in page and f"{QUEUE}{later.pk}/change/" in page
    assert "UTC+3" in page  # the deadline in the organisation's time, with its offset
    everything = client.get(QUEUE, {"status": "all"}).content.decode()
    assert "Закрытое обращение" in everything and "Чужое обращение" not in everything


def test_an_appeal_without_a_deadline_comes_last(client, world):
    waiting = make_appeal(world.page_a, received_at=soon(5), text="Без срока")
    Appeal.objects.filter(pk=waiting.pk).update(due_at=None)
    make_appeal(world.page_a, received_at=soon(0), text="Со сроком")
    client.force_login(world.operator_a)
    page = client.get(QUEUE).content.decode()
    assert page.index("Со сроком") < page.index("Без срока")


def test_the_queue_filters_offer_only_the_users_own_pages_and_platforms(client, world):
    make_appeal(world.page_a)
    client.force_login(world.operator_a)
    page = client.get(QUEUE).content.decode()
    assert world.page_a.title in page and world.page_b.title not in page
    assert "?platform=vk" in page and "?platform=max" not in page
    assert "Калининград" not in page  # no list of every region, no other organisation


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"overdue": "yes"}, "Просроченное", "Свежее"),
        ({"sla": "breached"}, "Просроченное", "Свежее"),
        ({"sla": "on_track"}, "Свежее", "Просроченное"),
        ({"mine": "me"}, "Просроченное", "Свежее"),
        ({"unanswered": "yes"}, "Свежее", "Просроченное"),
    ],
)
def test_each_filter_narrows_the_queue(client, world, query, shown, hidden):
    old = make_appeal(world.page_a, received_at=soon(24 * 7), text="Просроченное")
    services.appeal_take(actor=world.operator_a, appeal_id=old.pk)
    if query.get("unanswered"):
        services.appeal_reply(actor=world.operator_a, appeal_id=old.pk, text="Ответ")
    make_appeal(world.page_a, received_at=soon(0), text="Свежее")
    client.force_login(world.operator_a)
    page = client.get(QUEUE, query).content.decode()
    assert shown in page and hidden not in page


def test_search_finds_by_text_within_scope(client, world):
    make_appeal(world.page_a, text="Сломан светофор на перекрёстке")
    make_appeal(world.page_b, text="Сломан светофор у больницы")
    client.force_login(world.operator_a)
    page = client.get(QUEUE, {"q": "светофор"}).content.decode()
    assert "перекрёстке" in page and "у больницы" not in page


def test_the_queue_runs_a_constant_number_of_queries_whatever_its_length(client, world, django_assert_max_num_queries):
    client.force_login(world.operator_a)
    make_appeal(world.page_a, received_at=soon(1))
    client.get(QUEUE)  # warm the session and the scope
    with django_assert_max_num_queries(20) as few:
        assert client.get(QUEUE).status_code == 200
    for minute in range(40):
        appeal = make_appeal(world.page_a, received_at=soon(minute / 10))
        if minute % 3 == 0:
            services.appeal_take(actor=world.operator_a, appeal_id=appeal.pk)
    with django_assert_max_num_queries(20) as many:
        page = client.get(QUEUE)
    assert page.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not any("MIN(" in query["sql"] or "EXTRACT" in query["sql"] for query in many.captured_queries)


def test_a_stranger_gets_no_queue(client, world):
    make_appeal(world.page_a, text="Секретное обращение")
    client.force_login(world.stranger)
    response = client.get(QUEUE)
    assert response.status_code in (302, 403) and "Секретное" not in response.content.decode()


# The appeal page -------------------------------------------------------------------------------------------


def test_an_operator_sees_the_text_the_timeline_and_the_buttons_the_status_allows(client, world):
    appeal = make_appeal(world.page_a, author_name=NAME)
    services.appeal_take(actor=world.operator_a, appeal_id=appeal.pk)
    services.appeal_note(actor=world.operator_a, appeal_id=appeal.pk, text="Позвонить в управу")
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Снег уберут сегодня к вечеру.")
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert "Во дворе не убран снег" in page
    assert "Снег уберут сегодня к вечеру." in page and "Позвонить в управу" in page
    assert "Взято в работу" in page or "взято в работу" in page.lower()
    assert "UTC+3" in page
    assert 'value="close"' in page and 'value="take"' not in page  # answered: close, not take
    assert "Возобновить" not in page
    assert "&quot;reply&quot;" not in page and '{"' not in page  # no raw JSON of the events


def test_another_organisations_appeal_is_not_found_in_russian(client, world):
    appeal = make_appeal(world.page_b)
    client.force_login(world.operator_a)
    response = client.get(change_url(appeal), follow=True)
    assert response.status_code == 200
    assert f"Обращение №{appeal.pk} не найдено." in messages_of(response)
    assert response.redirect_chain[-1][0] == QUEUE
    posted = client.post(act_url(appeal), {"action": "take"}, follow=True)
    assert f"Обращение №{appeal.pk} не найдено." in messages_of(posted)
    appeal.refresh_from_db()
    assert appeal.status == "new"


def test_taking_an_appeal_says_what_was_done_and_the_new_status(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(act_url(appeal), {"action": "take"}, follow=True)
    assert f"Обращение взято в работу. Статус обращения №{appeal.pk}: «в работе»." in messages_of(response)
    appeal.refresh_from_db()
    assert appeal.status == "in_progress" and appeal.assignee == world.operator_a


def test_a_refused_action_shows_its_reason_and_changes_nothing(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(act_url(appeal), {"action": "resume"}, follow=True)
    assert response.status_code == 200
    assert any("не выполнено:" in message for message in messages_of(response))
    appeal.refresh_from_db()
    assert appeal.status == "new"


def test_an_action_that_needs_a_reason_is_refused_without_one(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(act_url(appeal), {"action": "extend"}, follow=True)
    assert any("не выполнено:" in message for message in messages_of(response))
    page = client.get(change_url(appeal)).content.decode()
    assert 'name="reason" rows="2" class="desk-input" required' in page  # the button asks for the reason


@pytest.mark.parametrize(
    ("action", "data", "status"),
    [
        ("reply", {"text": "Ответ гражданину"}, "answered"),
        ("note", {"text": "Заметка"}, "new"),
        ("take", {}, "in_progress"),
        ("wait", {"reason": "Уточнить адрес"}, "waiting"),
        ("reject", {"reason": "spam"}, "rejected"),
        ("close", {}, "closed"),
    ],
)
def test_each_button_carries_out_its_transition(client, world, action, data, status):
    appeal = make_appeal(world.page_a)
    if action == "close":
        services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ")
    client.force_login(world.operator_a)
    response = client.post(act_url(appeal), {"action": action, **data}, follow=True)
    assert response.status_code == 200
    appeal.refresh_from_db()
    assert appeal.status == status, messages_of(response)
    assert any(f"№{appeal.pk}" in message for message in messages_of(response))


def test_assign_and_duplicate_buttons_name_their_target(client, world):
    appeal = make_appeal(world.page_a)
    original = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    client.post(act_url(appeal), {"action": "assign", "assignee": world.analyst_x.pk})
    appeal.refresh_from_db()
    assert appeal.assignee == world.analyst_x
    refused = client.post(act_url(appeal), {"action": "assign", "assignee": world.operator_b.pk}, follow=True)
    assert any("не выполнено:" in message for message in messages_of(refused))
    client.post(act_url(appeal), {"action": "mark_duplicate", "duplicate_of": original.pk})
    appeal.refresh_from_db()
    assert appeal.status == "closed" and appeal.duplicate_of_id == original.pk


def test_an_auditor_reads_the_page_but_is_offered_and_allowed_nothing(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.auditor_x)
    page = client.get(change_url(appeal)).content.decode()
    assert "Во дворе не убран снег" in page
    assert 'name="action"' not in page and "desk-reply" not in page
    response = client.post(act_url(appeal), {"action": "take"}, follow=True)
    assert any("не выполнено:" in message for message in messages_of(response))
    appeal.refresh_from_db()
    assert appeal.status == "new"
    queue = client.get(QUEUE).content.decode()
    assert "take_selected" not in queue  # no bulk actions for a read-only role


def test_an_analyst_reassigns_but_is_not_offered_and_not_allowed_a_public_reply(client, world, api):
    appeal = make_appeal(world.page_a)
    client.force_login(world.analyst_x)
    page = client.get(change_url(appeal)).content.decode()
    assert 'value="assign"' in page and 'value="redirect"' in page
    assert 'value="reply"' not in page and 'value="note"' in page
    response = client.post(act_url(appeal), {"action": "reply", "text": "От имени аналитика"}, follow=True)
    assert any("не выполнено:" in message for message in messages_of(response))
    answer = api.as_user(world.analyst_x).post(f"/api/v1/appeals/{appeal.pk}/reply/", {"text": "Ответ"}, format="json")
    assert answer.status_code == 403
    assert not Reply.objects.filter(appeal=appeal, kind="public").exists()
    assert api.as_user(world.operator_a).post(
        f"/api/v1/appeals/{appeal.pk}/reply/", {"text": "Ответ"}, format="json"
    ).status_code in (200, 201)


def test_the_reply_box_offers_the_organisations_templates_filled_in(client, world):
    appeal = make_appeal(world.page_a, author_name=NAME)
    ResponseTemplate.objects.create(
        organization=world.org_a, title="Благодарность", text="{citizen_name}, спасибо! {organization_name}"
    )
    ResponseTemplate.objects.create(organization=world.org_b, title="Чужой шаблон", text="Не для вас")
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert "Благодарность" in page and f"{NAME}, спасибо! {world.org_a.name}" in page
    assert "Чужой шаблон" not in page


def test_a_failed_delivery_is_shown_with_its_error_and_can_be_sent_again(
    client, world, django_capture_on_commit_callbacks
):
    appeal = make_appeal(world.page_a)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ")
    delivery = Delivery.objects.create(
        reply=Reply.objects.get(appeal=appeal),
        appeal=appeal,
        page=world.page_a,
        platform="vk",
        method="wall.createComment",
        idempotency_key="key-1",
        status="failed",
        last_error="access token expired",
    )
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert "access token expired" in page and "Отправить снова" in page
    with django_capture_on_commit_callbacks():
        client.post(act_url(appeal), {"action": "retry_delivery", "delivery": delivery.pk})
    delivery.refresh_from_db()
    assert delivery.status == "pending"


# Bulk actions -----------------------------------------------------------------------------------------------


def bulk(client, action: str, appeals, **extra):
    data = {"action": action, "_selected_action": [appeal.pk for appeal in appeals], "index": 0, **extra}
    return client.post(QUEUE, data, follow=True)


def test_bulk_take_takes_the_operators_appeals_and_never_anothers(client, world):
    mine, other = make_appeal(world.page_a), make_appeal(world.page_b)
    client.force_login(world.operator_a)
    response = bulk(client, "take_selected", [mine, other])
    assert "Взято в работу: 1 обращение." in messages_of(response)
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.status == "in_progress" and other.status == "new"


def test_bulk_assign_names_a_colleague_and_refuses_one_out_of_scope(client, world):
    first, second = make_appeal(world.page_a), make_appeal(world.page_a)
    client.force_login(world.operator_a)
    page = client.get(QUEUE).content.decode()
    shown = {user: user.get_full_name() or user.username for user in (world.analyst_x, world.operator_b)}
    assert shown[world.analyst_x] in page and shown[world.operator_b] not in page  # the user's scope only
    response = bulk(client, "assign_selected", [first, second], assignee=world.analyst_x.pk)
    assert "Назначено: 2 обращения." in messages_of(response)
    refused = bulk(client, "assign_selected", [first], assignee=world.operator_b.pk)
    assert any("не выполнено" in message for message in messages_of(refused))
    first.refresh_from_db()
    assert first.assignee == world.analyst_x


def test_bulk_close_as_duplicate_of_a_chosen_appeal(client, world):
    original, copy_one, copy_two = (make_appeal(world.page_a) for _ in range(3))
    foreign = make_appeal(world.page_b)
    client.force_login(world.operator_a)
    response = bulk(client, "close_as_duplicate", [original, copy_one, copy_two], original=original.pk)
    assert "Закрыто как дубликаты: 2 обращения." in messages_of(response)
    assert set(Appeal.objects.filter(duplicate_of=original).values_list("pk", flat=True)) == {copy_one.pk, copy_two.pk}
    refused = bulk(client, "close_as_duplicate", [make_appeal(world.page_a)], original=foreign.pk)
    assert any("не выполнено" in message for message in messages_of(refused))


# Start page, other models ----------------------------------------------------------------------------------


def test_the_start_page_counts_the_users_scope_and_draws_the_chart(client, world):
    make_appeal(world.page_a, received_at=soon(1))
    make_appeal(world.page_a, received_at=soon(24 * 10))  # overdue
    for _ in range(3):
        make_appeal(world.page_b, received_at=soon(1))
    client.force_login(world.operator_a)
    response = client.get("/admin/")
    page = response.content.decode()
    cards = {card["tone"]: card["count"] for card in response.context["desk_cards"]}
    assert cards["new"] == "2" and cards["breached"] == "1"
    assert 'class="chart"' in page and "Поступило" in page
    assert world.org_b.name not in page


def test_an_operator_is_not_offered_to_add_organisations(client, world):
    client.force_login(world.operator_a)
    page = client.get("/admin/publics/organization/").content.decode()
    assert "/admin/publics/organization/add/" not in page
    assert client.get("/admin/publics/organization/add/").status_code == 403


def _region_filter_choices(response) -> list[str] | None:
    """The names offered by the list's region filter, or None when it is not shown."""
    spec = next((spec for spec in response.context["cl"].filter_specs if spec.title == "регион"), None)
    return None if spec is None or not spec.has_output() else sorted(str(name) for _pk, name in spec.lookup_choices)


def test_region_filters_offer_only_the_users_regions(client, world):
    client.force_login(world.operator_a)  # one organisation, one region: no region filter at all
    assert _region_filter_choices(client.get("/admin/publics/organization/")) is None
    assert _region_filter_choices(client.get("/admin/publics/page/")) is None
    client.force_login(world.analyst_x)  # a region's analyst: one region, no filter either
    assert _region_filter_choices(client.get("/admin/publics/organization/")) is None
    two = Membership.objects.create(user=world.analyst_x, role="analyst", region=region("RU-KGD"))
    assert _region_filter_choices(client.get("/admin/publics/page/")) == ["Калининградская область", "Москва"]
    two.delete()
    client.force_login(world.admin)  # the federation: every region
    everything = sorted(Region.objects.values_list("name", flat=True))
    assert _region_filter_choices(client.get("/admin/publics/organization/")) == everything
    assert len(everything) == 89


def test_operators_manage_their_own_templates_only(client, world):
    client.force_login(world.operator_a)
    response = client.post(
        "/admin/desk/responsetemplate/add/",
        {"title": "Чужой", "organization": world.org_b.pk, "text": "x", "is_active": "on"},
    )
    assert not ResponseTemplate.objects.filter(title="Чужой").exists()
    assert response.status_code == 200  # the form shows the error: org_b is not a choice
    client.post(
        "/admin/desk/responsetemplate/add/",
        {"title": "Свой", "organization": world.org_a.pk, "text": "Здравствуйте, {citizen_name}!", "is_active": "on"},
    )
    assert ResponseTemplate.objects.filter(title="Свой", organization=world.org_a, created_by=world.operator_a).exists()
