"""One table of transitions (appeals.models.TRANSITIONS) and one registry of actions read by the API and the desk."""

import pytest
from django.urls import reverse

from appeals.actions import ACTIONS, actions_allowed
from appeals.models import TRANSITIONS, Status, Transition, transitions_allowed_from
from tests.appeals.test_lifecycle import ALLOWED, appeal_in

pytestmark = pytest.mark.django_db


def test_the_model_table_is_the_table_the_services_are_held_to():
    assert {str(name): dict(moves) for name, moves in TRANSITIONS.items() if name in ALLOWED} == ALLOWED
    # The two transitions that test does not run from every status are in the table as well.
    assert set(TRANSITIONS) == {str(name) for name in Transition}


def test_every_transition_has_one_action_and_one_api_route():
    assert set(ACTIONS) == {str(name) for name in Transition}
    for name, entry in ACTIONS.items():
        url = reverse(f"appeal-{entry.url_path}", kwargs={"pk": 1})
        assert url == f"/api/v1/appeals/1/{entry.url_path}/", name


def test_only_the_actions_the_status_allows_are_offered(world):
    for status in Status.values:
        appeal = appeal_in(world, status)
        offered = [entry.name for entry in actions_allowed(appeal, world.operator_a)]
        assert sorted(offered) == sorted(transitions_allowed_from(status))
        assert ("resume" in offered) == (status == Status.WAITING)


def test_nobody_is_offered_an_action_on_an_appeal_they_may_not_act_on(world):
    appeal = appeal_in(world, Status.NEW)
    for outsider in (world.operator_b, world.auditor_x, world.auditor_federal, world.stranger, world.integration_a):
        assert actions_allowed(appeal, outsider) == []
    assert actions_allowed(appeal, world.analyst_x)
