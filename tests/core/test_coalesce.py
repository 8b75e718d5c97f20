"""Coalesced tasks (core.outbox.send_coalesced_after_commit): a burst of changes, one task that takes them all."""

import pytest
from django.db import transaction

from core import outbox

TASK = "ratings.tasks.reroll_appeals"


@pytest.fixture
def published(monkeypatch):
    """What would go to the broker, instead of running it (tests run tasks eagerly)."""
    sent: list[dict] = []

    def send_task(task, *, countdown=None, **kwargs):
        sent.append({"task": task, "countdown": countdown, **kwargs})
        return True

    monkeypatch.setattr(outbox, "send_task", send_task)
    outbox.take_coalesced(TASK)  # nothing pending from elsewhere
    return sent


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_publishes_one_task_which_takes_every_id(published):
    for ids in ([3, 1], [2], [3]):
        with transaction.atomic():
            outbox.send_coalesced_after_commit(TASK, ids)
    assert published == [{"task": TASK, "countdown": outbox.COALESCE_DELAY}]
    assert outbox.take_coalesced(TASK) == [1, 2, 3]
    assert outbox.take_coalesced(TASK) == []
    with transaction.atomic():  # after the task has taken the set, the next change publishes again
        outbox.send_coalesced_after_commit(TASK, [4])
    assert len(published) == 2
    assert outbox.take_coalesced(TASK) == [4]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing(published):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.send_coalesced_after_commit(TASK, [7])
        raise RuntimeError
    assert published == []
    assert outbox.take_coalesced(TASK) == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_ids_wait_and_the_next_change_publishes_again(monkeypatch):
    attempts: list[dict] = []

    def broker_down(task, *, countdown=None, **kwargs):
        attempts.append(kwargs)
        return False

    monkeypatch.setattr(outbox, "send_task", broker_down)
    outbox.take_coalesced(TASK)
    with transaction.atomic():
        outbox.send_coalesced_after_commit(TASK, [5])
    with transaction.atomic():
        outbox.send_coalesced_after_commit(TASK, [6])
    assert len(attempts) == 2  # the failed publish did not leave the flag standing
    assert outbox.take_coalesced(TASK) == [5, 6]


@pytest.mark.django_db(transaction=True)
def test_without_redis_each_change_sends_its_own_ids(published, monkeypatch):
    monkeypatch.setattr(outbox, "redis_client", lambda: None)
    with transaction.atomic():
        outbox.send_coalesced_after_commit(TASK, [9, 8, 9])
    assert published == [{"task": TASK, "countdown": None, "ids": [8, 9]}]
    assert outbox.take_coalesced(TASK) == []


@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_each_change_sends_its_own_ids(published, monkeypatch):
    import redis

    monkeypatch.setattr(
        outbox, "redis_client", lambda: redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    )
    with transaction.atomic():
        outbox.send_coalesced_after_commit(TASK, [11])
    assert published == [{"task": TASK, "countdown": None, "ids": [11]}]
    assert outbox.take_coalesced(TASK) == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_rollups_re_roll_takes_the_pending_appeals(world, monkeypatch):
    """The task re-rolls what the set holds, and what it was sent (without Redis, or an old message)."""
    from ratings import services, tasks

    rolled: list[list[int]] = []
    monkeypatch.setattr(services, "rollups_reroll_appeals", lambda *, appeal_ids: rolled.append(appeal_ids) or 0)
    outbox.take_coalesced(TASK)
    client = outbox.redis_client()
    client.sadd(outbox._coalesce_key(TASK, "pending"), 21, 22)
    tasks.reroll_appeals(ids=[20], appeal_ids=[22])
    assert rolled == [[20, 21, 22]]
    assert outbox.take_coalesced(TASK) == []
