"""The appeal's page in the desk shows its replies and history to whoever may open it."""

import pytest

from tests.desk.test_masking import NAME, change_url
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db


def test_an_operator_sees_the_appeals_replies_and_history_on_its_page(client, world):
    from appeals import services

    appeal = make_appeal(world.page_a, author_name=NAME)
    services.appeal_take(actor=world.operator_a, appeal_id=appeal.pk)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Снег уберут сегодня к вечеру.")
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert "Снег уберут сегодня к вечеру." in page
    assert "взято в работу" in page.lower() or "в работе" in page.lower()
    assert "+0300" in page  # times in the organisation's zone, with the offset
