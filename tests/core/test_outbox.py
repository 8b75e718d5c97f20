"""The outbox's sent mark (core.outbox): written without waiting for the disk, and only for its own statement."""

import pytest
from django.db import connection, transaction

from core.models import QueuedTask
from core.outbox import _mark_sent


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sent_mark_commits_asynchronously_in_a_statement_of_its_own():
    row = QueuedTask.objects.create(task="ratings.tasks.reroll_appeals", kwargs={"appeal_ids": [1]})
    _mark_sent(row.pk)
    row.refresh_from_db()
    assert row.sent_at is not None
    assert synchronous_commit() == "on"  # the session, and the next change's commit, wait for the disk as before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_sent_mark_leaves_its_commit_alone():
    row = QueuedTask.objects.create(task="ratings.tasks.reroll_appeals", kwargs={"appeal_ids": [1]})
    with transaction.atomic():
        _mark_sent(row.pk)
        assert synchronous_commit() == "on"
    row.refresh_from_db()
    assert row.sent_at is not None
