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


def test_the_appeal_page_offers_only_colleagues_who_may_handle_it_and_organisations_of_its_region(client, world):
    from tests.factories import OrganizationFactory

    neighbour = OrganizationFactory(name="Управление образования ЮАО", region=world.org_a.region)
    appeal = make_appeal(world.page_a)
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert "operator_a" in page and "analyst_x" in page
    assert "operator_b" not in page and "auditor_x" not in page and "integration_a" not in page
    assert str(neighbour) in page and f">{world.org_b}<" not in page
