"""The tamper-evident history: hash chains per appeal, verify_history, append-only replies, the app's role."""

import datetime as dt
import secrets
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from appeals.models import AppealEvent, Reply
from appeals.services import appeal_note, appeal_reply, sla_sweep
from appeals.services.history import chain, system_event
from tests.factories import make_appeal

RECEIVED = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)


@pytest.fixture
def histories(world):
    """Two appeals with a few events and replies each, the last ones written by one sweep batch."""
    appeals = [make_appeal(world.page_a, received_at=RECEIVED) for _ in range(2)]
    for number, appeal in enumerate(appeals):
        appeal_note(actor=world.operator_a, appeal_id=appeal.pk, text=f"Заметка {number}", now=RECEIVED)
        appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text=f"Ответ {number}", now=RECEIVED)
    sla_sweep(now=RECEIVED + dt.timedelta(days=60))
    return appeals


def _verify() -> str:
    out = StringIO()
    call_command("verify_history", verbosity=0, stdout=out)
    return out.getvalue()


def _verify_fails() -> str:
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_history", verbosity=0, stdout=out)
    assert failure.value.returncode == 1
    return out.getvalue()


def _tamper(sql: str, params: list) -> None:
    """What a superuser can do: on PostgreSQL past the append-only triggers, as the finding showed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("RESET session_replication_role")


def _event_ids(appeal) -> list[int]:
    return list(AppealEvent.objects.filter(appeal=appeal).order_by("id").values_list("id", flat=True))


@pytest.mark.django_db
def test_each_event_and_reply_follows_the_one_before_it_of_its_appeal(histories):
    for model in (AppealEvent, Reply):
        for appeal in histories:
            rows = list(model.objects.filter(appeal=appeal).order_by("id"))
            assert len(rows) >= 2
            assert [row.previous_hash for row in rows] == ["", *[row.hash for row in rows[:-1]]]
            assert all(len(row.hash) == 64 for row in rows)
    assert _verify() == ""


@pytest.mark.django_db
def test_chain_reads_the_last_hashes_of_a_whole_batch_in_one_query(histories, django_assert_num_queries):
    events = [system_event(appeal, action="sla_warning", at=RECEIVED, data={}) for appeal in histories * 3]
    with django_assert_num_queries(1):
        chain(events)
    last = {appeal.pk: AppealEvent.objects.filter(appeal=appeal).latest("id").hash for appeal in histories}
    assert [event.previous_hash for event in events[:2]] == [last[appeal.pk] for appeal in histories]
    assert events[2].previous_hash == events[0].hash


@pytest.mark.django_db
@pytest.mark.parametrize("tampering", ["altered", "deleted", "reordered"])
def test_verify_history_reports_only_the_appeal_whose_event_chain_was_tampered_with(histories, tampering):
    victim, untouched = histories
    middle, last = _event_ids(victim)[1:3]
    if tampering == "altered":
        _tamper("UPDATE appeals_appealevent SET reason = %s WHERE id = %s", ["всё решено", middle])
    elif tampering == "deleted":
        _tamper("DELETE FROM appeals_appealevent WHERE id = %s", [middle])
    else:
        swaps = [(middle, -1), (last, middle), (-1, last)]
        for old, new in swaps:
            _tamper("UPDATE appeals_appealevent SET id = %s WHERE id = %s", [new, old])
    output = _verify_fails()
    assert f"appeal {victim.pk}: event" in output
    assert f"appeal {untouched.pk}:" not in output


@pytest.mark.django_db
def test_verify_history_reports_an_altered_reply_and_an_appeal_with_no_history_left(histories):
    victim, emptied = histories
    reply = Reply.objects.filter(appeal=victim).earliest("id")
    _tamper("UPDATE appeals_reply SET text = %s WHERE id = %s", ["Вежливый ответ", reply.pk])
    _tamper("DELETE FROM appeals_appealevent WHERE appeal_id = %s", [emptied.pk])
    output = _verify_fails()
    assert f"appeal {victim.pk}: reply {reply.pk} was altered" in output
    assert f"appeal {emptied.pk}: has no history at all" in output


@pytest.mark.django_db
def test_replies_are_append_only(histories):
    reply = Reply.objects.filter(appeal=histories[0]).first()
    with pytest.raises(TypeError):
        Reply.objects.filter(pk=reply.pk).update(text="другой")
    with pytest.raises(TypeError):
        Reply.objects.filter(pk=reply.pk).delete()
    with pytest.raises(TypeError):
        reply.save()
    with pytest.raises(TypeError):
        reply.delete()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_refuses_update_and_delete_of_replies(histories):
    reply = Reply.objects.filter(appeal=histories[0]).first()
    for sql in ("UPDATE appeals_reply SET text = 'x' WHERE id = %s", "DELETE FROM appeals_reply WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [reply.pk])


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_application_role_may_insert_and_read_history_but_not_wipe_or_unprotect_it(world, histories):
    role = f"otklik_app_test_{secrets.token_hex(4)}"
    appeal = histories[0]
    with connection.cursor() as cursor:
        # Created inside the test's transaction, so the rollback at its end drops the role again.
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        call_command("grant_app_role", role, stdout=StringIO())
        cursor.execute(f"SET ROLE {role}")
        try:
            # What the application does: a note writes a reply and an event, reading the last hashes first.
            appeal_note(actor=world.operator_a, appeal_id=appeal.pk, text="Под ролью приложения", now=RECEIVED)
            assert Reply.objects.filter(appeal=appeal, text="Под ролью приложения").exists()
            for table in ("appeals_appealevent", "appeals_reply"):
                for sql in (  # the table names are the two constants above
                    f"TRUNCATE {table}",
                    f"DELETE FROM {table}",  # noqa: S608
                    f"UPDATE {table} SET created_at = created_at",  # noqa: S608
                    f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                    "SET session_replication_role = replica",
                ):
                    with pytest.raises(DatabaseError, match=r"permission denied|must be owner"), transaction.atomic():
                        cursor.execute(sql)
        finally:
            cursor.execute("RESET ROLE")
    assert _verify() == ""


@pytest.mark.postgres
@pytest.mark.django_db
def test_grant_app_role_refuses_a_superuser(world):
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_app_role", connection.settings_dict["USER"] or "root", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"policy": 1, "channel": "comment"},
        {"channel": 'Ответ «в кавычках» "и" \\ обратная черта\n\t\x01 😀', "appeal": 5, "nested": {"appeal": [1, 2]}},
    ],
)
def test_the_one_statement_intake_stores_the_hash_that_verify_history_recomputes(world, data):
    """PostgreSQL computes the first event's hash from the canonical text around the new id: byte for byte
    the hash Python computes, whatever the text (quotes, escapes, non-ASCII, a key named "appeal" in the data)."""
    from appeals.models import EventAction, Status
    from appeals.services.history import event_hash, history_event, history_insert_with_appeal
    from appeals.services.intake import AppealInput, appeal_build

    page = world.page_a
    appeal = appeal_build(
        organization=page.organization,
        page=page,
        data=AppealInput(kind="message", channel="comment", text="Текст", received_at=RECEIVED),
        now=RECEIVED,
    )
    event = history_event(
        appeal, actor=world.operator_a, action=EventAction.CREATED, at=RECEIVED, to_status=Status.NEW, data=data
    )
    history_insert_with_appeal(appeal, event)
    stored = AppealEvent.objects.get(pk=event.pk)
    assert stored.appeal_id == appeal.pk and stored.data == data and stored.previous_hash == ""
    assert stored.hash == event_hash(stored, "") == event.hash
    assert _verify() == ""


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_intake_statement_inserts_the_appeal_as_django_would():
    """The appeal's part of the one-statement intake is the INSERT Django compiles for save()."""
    from django.db.models.sql import InsertQuery

    from appeals.models import Appeal
    from appeals.services.history import intake_statement

    sql, fields, _ = intake_statement()
    query = InsertQuery(Appeal)
    query.insert_values(list(fields), [Appeal()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [Appeal._meta.pk]
    [(django_sql, _)] = compiler.as_sql()
    assert sql.startswith(f"WITH new_appeal AS ({django_sql}) INSERT INTO ")
    assert set(fields) == {f for f in Appeal._meta.concrete_fields if not f.primary_key}


@pytest.mark.django_db(transaction=True)
def test_a_delivery_seen_before_inside_a_callers_transaction_leaves_that_transaction_usable(world):
    from appeals.models import Appeal
    from tests.factories import make_appeal as intake

    first = intake(world.page_a, received_at=RECEIVED, external_id="seen-before")
    with transaction.atomic():
        again = intake(world.page_a, received_at=RECEIVED, external_id="seen-before")
        assert again.pk == first.pk
        assert Appeal.objects.filter(external_id="seen-before").count() == 1  # the transaction still works
    assert AppealEvent.objects.filter(appeal=first).count() == 1
