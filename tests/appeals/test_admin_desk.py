"""Operators answer appeals in the Django admin, through the same services and scopes as the API."""

import pytest

from appeals.models import Appeal, Reply
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db


def change_url(appeal: Appeal) -> str:
    return f"/admin/appeals/appeal/{appeal.pk}/change/"


def test_operator_sees_only_their_organisations_appeals_in_the_admin(client, world):
    own = make_appeal(world.page_a, text="Снег во дворе школы")
    other = make_appeal(world.page_b, text="Очередь в поликлинике")
    client.force_login(world.operator_a)
    page = client.get("/admin/appeals/appeal/").content.decode()
    assert own.text in page and other.text not in page
    assert client.get(change_url(other)).status_code in (302, 404)


def test_operator_replies_from_the_admin_and_the_appeal_is_answered(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(change_url(appeal), {"action": "reply", "body": "Снег уберут сегодня.", "reject_reason": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal.refresh_from_db()
    assert appeal.status == "answered" and appeal.first_responded_at is not None
    assert Reply.objects.get(appeal=appeal).text == "Снег уберут сегодня."
    assert appeal.events.filter(action="replied", actor=world.operator_a).exists()


def test_a_forbidden_transition_in_the_admin_shows_an_error_and_changes_nothing(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(change_url(appeal), {"action": "close", "body": ""}, follow=True)
    appeal.refresh_from_db()
    assert appeal.status == "new"
    levels = [message.level_tag for message in response.context["messages"]]
    assert levels == ["error"]


def test_reply_without_text_is_a_form_error(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    response = client.post(change_url(appeal), {"action": "reply", "body": " "})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "new"


def test_auditor_can_read_but_not_act(client, world):
    appeal = make_appeal(world.page_a)
    client.force_login(world.auditor_x)
    assert client.get(change_url(appeal)).status_code == 200
    client.post(change_url(appeal), {"action": "take", "body": ""})
    appeal.refresh_from_db()
    assert appeal.status == "new"


def test_admin_changelist_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(30):
        make_appeal(world.page_a)
    client.force_login(world.operator_a)
    client.get("/admin/appeals/appeal/")
    with django_assert_max_num_queries(15):
        response = client.get("/admin/appeals/appeal/")
    assert response.status_code == 200


def test_the_admin_speaks_russian(client, world):
    client.force_login(world.operator_a)
    page = client.get("/admin/").content.decode()
    assert "Обращения" in page and "Реестр публичных страниц" in page
