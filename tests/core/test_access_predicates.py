"""Who may act is decided once (core.access): the predicates services check agree with the filters lists use."""

import pytest

from appeals import selectors, services
from appeals.models import CalendarOverride, SlaPolicy
from core.access import SYSTEM, scope_for
from core.errors import Refused
from publics import selectors as registry
from tests.conftest import PERSONAS
from tests.factories import make_appeal, region

pytestmark = pytest.mark.django_db


def test_object_predicates_agree_with_the_list_filters_for_every_persona(world):
    appeals = [make_appeal(world.page_a), make_appeal(world.page_b)]
    for name in PERSONAS:
        user = getattr(world, name)
        scope = scope_for(user)
        for appeal in appeals:
            for mode, predicate in (("read", scope.may_read), ("manage", scope.may_manage)):
                listed = selectors.appeals_visible_to(user, mode=mode).filter(pk=appeal.pk).exists()
                assert predicate(appeal) == listed, (name, mode, appeal.pk)
        for organization in (world.org_a, world.org_b):
            for mode, predicate in (("read", scope.may_read), ("manage", scope.may_manage)):
                listed = registry.organizations_visible_to(user, mode=mode).filter(pk=organization.pk).exists()
                assert predicate(organization) == listed, (name, mode, organization.pk)
        for page in (world.page_a, world.page_b):
            listed = registry.pages_visible_to(user, mode="push").filter(pk=page.pk).exists()
            assert scope.may_push(page) == listed, (name, page.pk)


def test_rule_predicate_agrees_with_the_rule_filters_for_every_persona(world):
    moscow, kaliningrad = region("RU-MOW"), region("RU-KGD")
    base = {"first_response_amount": 1, "first_response_unit": "working_hours"}
    base |= {"resolution_amount": 1, "resolution_unit": "working_days"}
    policies = [
        services.sla_policy_create(actor=world.admin, data={"name": "Федеральная", **base}),
        services.sla_policy_create(actor=world.admin, data={"name": "Москва", "region": moscow, **base}),
        services.sla_policy_create(actor=world.admin, data={"name": "Калининград", "region": kaliningrad, **base}),
        services.sla_policy_create(actor=world.admin, data={"name": "Школа", "organization": world.org_a, **base}),
    ]
    overrides = [
        CalendarOverride.objects.create(date="2026-12-30", kind="non_working"),
        CalendarOverride.objects.create(date="2026-12-30", region=moscow, kind="working"),
        CalendarOverride.objects.create(date="2026-12-30", region=kaliningrad, kind="working"),
    ]
    for name in PERSONAS:
        user = getattr(world, name)
        scope = scope_for(user)
        manageable = set(selectors.sla_policies_visible_to(user, mode="manage").values_list("pk", flat=True))
        for policy in SlaPolicy.objects.filter(pk__in=[p.pk for p in policies]):
            expected = scope.may_manage_rule(region_id=policy.region_id, organization_id=policy.organization_id)
            assert expected == (policy.pk in manageable), (name, policy.name)
        manageable = set(selectors.calendar_overrides_visible_to(user, mode="manage").values_list("pk", flat=True))
        for override in overrides:
            assert scope.may_manage_rule(region_id=override.region_id) == (override.pk in manageable), (name, override)


def test_intake_checks_the_right_to_push_itself_so_no_caller_can_forget(world):
    page = type(world.page_a).objects.select_related("organization__region").get(pk=world.page_a.pk)
    data = services.AppealInput(kind="message", channel="comment", text="Яма", received_at=page.created_at)
    for outsider in (None, world.operator_b, world.auditor_x, world.stranger):
        with pytest.raises(Refused):
            services.appeal_create(actor=outsider, page=page, data=data, now=page.created_at)
    appeal, created = services.appeal_create(actor=world.integration_a, page=page, data=data, now=page.created_at)
    assert created and appeal.page_id == page.pk
    assert scope_for(SYSTEM).may_push(page)


def test_the_users_an_appeal_can_be_assigned_to_are_those_whose_scope_manages_it(world):
    from django.contrib.auth import get_user_model

    from core.access import managers_q

    for appeal in (make_appeal(world.page_a), make_appeal(world.page_b)):
        listed = set(get_user_model().objects.filter(managers_q(appeal.scope_keys())).values_list("pk", flat=True))
        for name in PERSONAS:
            user = getattr(world, name)
            assert scope_for(user).may_manage(appeal) == (user.pk in listed), (name, appeal.pk)
