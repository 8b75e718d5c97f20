"""The SLA notice: one line per appeal with its page, local deadline, excerpt and desk link; highest line only."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from appeals import services
from appeals.services.notifications import desk_url
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MONDAY_10_MSK = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # 8 working hours: due Monday 18:00 MSK


def msk(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour - 3, minute, tzinfo=dt.UTC)


@pytest.fixture
def mailed_operator(world, settings):
    settings.OTKLIK_PUBLIC_URL = "https://otklik.example.ru"
    world.operator_a.email = "operator-a@example.ru"
    world.operator_a.save()
    return world.operator_a


def sweep(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.sla_sweep(now=now)


def test_an_appeal_past_50_and_80_percent_since_the_last_notice_appears_once_under_80(
    world, mailed_operator, django_capture_on_commit_callbacks
):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK, text="Когда   починят\nкрышу в спортзале?")
    sweep(msk(23, 16, 30), django_capture_on_commit_callbacks)  # both thresholds crossed at once

    (message,) = mail.outbox
    lines = [line for line in message.body.splitlines() if line.startswith("Обращение")]
    assert lines == [
        f"Обращение № {appeal.pk}, {world.page_a}, срок 23.11.2026 18:00 UTC+03:00: "
        f"прошло 80% времени на первый ответ. «Когда починят крышу в спортзале?» "
        f"https://otklik.example.ru/admin/appeals/appeal/{appeal.pk}/change/"
    ]
    assert "50%" not in message.body


def test_the_notice_counts_appeals_with_russian_plural_forms(
    world, mailed_operator, django_capture_on_commit_callbacks
):
    for _ in range(5):
        make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.subject == f"Отклик: 5 обращений требуют внимания ({world.org_a})"
    assert message.body.startswith(f"5 обращений организации «{world.org_a}» требуют внимания по срокам:")
    assert message.body.count("истёк срок первого ответа") == 5


@pytest.mark.parametrize(("count", "word"), [(1, "обращение"), (2, "обращения"), (21, "обращение"), (11, "обращений")])
def test_plural_forms_follow_russian_rules(world, mailed_operator, django_capture_on_commit_callbacks, count, word):
    for _ in range(count):
        make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    assert f"{count} {word} " in mail.outbox[0].subject


def test_the_deadline_is_in_the_organisations_own_time_with_its_offset(
    world, mailed_operator, django_capture_on_commit_callbacks
):
    world.org_a.timezone = "Asia/Anadyr"  # MSK+9
    world.org_a.save()
    appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 22, 21, 0, tzinfo=dt.UTC))  # Mon 09:00
    sweep(appeal.first_response_due_at + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert "срок 23.11.2026 17:00 UTC+12:00: истёк срок первого ответа" in mail.outbox[0].body


def test_the_notice_has_an_html_alternative_with_the_links(world, mailed_operator, django_capture_on_commit_callbacks):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    html, mimetype = mail.outbox[0].alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{desk_url(appeal.pk)}"' in html and "истёк срок первого ответа" in html


def test_breaches_come_before_warnings(world, mailed_operator, django_capture_on_commit_callbacks):
    late = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    warned = make_appeal(world.page_a, received_at=msk(23, 12))  # 50% at 16:30, 80% at 17:54 the next day
    sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    lines = [line for line in mail.outbox[0].body.splitlines() if line.startswith("Обращение")]
    assert [line.split(",")[0] for line in lines] == [f"Обращение № {late.pk}", f"Обращение № {warned.pk}"]
    assert "прошло 50% времени на первый ответ" in lines[1]


def test_the_notice_reads_a_constant_number_of_queries(world, mailed_operator, django_assert_num_queries):
    from appeals.models import AppealEvent
    from appeals.services.history import history_append, system_event

    def notice_for(count: int) -> None:
        appeals = [make_appeal(world.page_a, received_at=MONDAY_10_MSK) for _ in range(count)]
        warning = {"target": "first_response", "percent": 50}
        with transaction.atomic():
            events = history_append(
                [system_event(a, action="sla_warning", at=msk(23, 15), data=warning) for a in appeals]
            )
        ids = [event.pk for event in events]
        mail.outbox.clear()
        with django_assert_num_queries(2):
            assert services.sla_notify(event_ids=ids) == 1
        assert len([line for line in mail.outbox[0].body.splitlines() if line.startswith("Обращение")]) == count

    notice_for(1)
    notice_for(12)
    assert AppealEvent.objects.filter(action="sla_warning").count() == 13


def test_operators_of_another_organisation_get_nothing(world, mailed_operator, django_capture_on_commit_callbacks):
    world.operator_b.email = "operator-b@example.ru"
    world.operator_b.save()
    make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [["operator-a@example.ru"]]
