"""Races between transitions (PostgreSQL) and the append-only history."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from appeals.models import Appeal, AppealEvent, Reply
from tests.factories import make_appeal, token_for


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_give_exactly_one_first_response_and_the_loser_gets_409(world):
    appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC))
    token = token_for(world.operator_a)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def reply(text: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            statuses.append(
                client.post(f"/api/v1/appeals/{appeal.pk}/reply/", {"text": text}, format="json").status_code
            )
        finally:
            connections.close_all()

    for attempt in range(20):
        # Hold the row lock in this thread while both requests start, so that they really collide.
        statuses.clear()
        threads = [threading.Thread(target=reply, args=(f"Ответ {n}",)) for n in range(2)]
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM appeals_appeal WHERE id = %s FOR UPDATE", [appeal.pk])
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            cursor.execute("COMMIT")
        assert sorted(statuses) == [409, 409], (attempt, statuses)
        break

    # Now without the outside lock: both race for the row; whoever loses the lock answers 409.
    statuses.clear()
    threads = [threading.Thread(target=reply, args=(f"Ответ {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert set(statuses) <= {200, 409} and 200 in statuses
    appeal.refresh_from_db()
    replies = Reply.objects.filter(appeal=appeal, kind="public").count()
    events = AppealEvent.objects.filter(appeal=appeal, action="replied")
    assert replies == statuses.count(200) == events.count()
    assert [event.data["first_response"] for event in events.order_by("id")].count(True) == 1
    assert appeal.first_responded_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_of_the_same_event_stores_one_appeal(world):
    token = token_for(world.integration_a)
    barrier = threading.Barrier(4)
    results: list[tuple[int, int]] = []
    body = {
        "page": world.page_a.pk,
        "external_id": "vk-wall-reply-1",
        "kind": "message",
        "channel": "comment",
        "text": "Когда починят освещение?",
        "received_at": "2026-11-23T10:00:00+03:00",
    }

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            response = client.post("/api/v1/appeals/", body, format="json")
            results.append((response.status_code, response.json()["id"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Appeal.objects.filter(page=world.page_a, external_id="vk-wall-reply-1").count() == 1
    assert sorted(code for code, _ in results).count(201) == 1
    assert len({appeal_id for _, appeal_id in results}) == 1


@pytest.mark.django_db
def test_history_refuses_update_and_delete(world):
    appeal = make_appeal(world.page_a)
    event = AppealEvent.objects.get(appeal=appeal)
    event.reason = "переписать историю"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AppealEvent.objects.filter(appeal=appeal).update(reason="x")
    with pytest.raises(TypeError):
        AppealEvent.objects.filter(appeal=appeal).delete()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_itself_refuses_to_change_history(world):
    from django.db import DatabaseError, transaction

    appeal = make_appeal(world.page_a)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE appeals_appealevent SET reason = 'x' WHERE appeal_id = %s", [appeal.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM appeals_appealevent WHERE appeal_id = %s", [appeal.pk])
