import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from core.validators import inn_is_valid, ogrn_is_valid
from publics.demo import AUDIENCE_DAYS, DEMO_PASSWORD, USERS, demo_token_key
from publics.models import AudienceSnapshot, Membership, Organization, OrganizationKind, Page, Platform, Role

TODAY = dt.date(2026, 3, 2)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    # Both runs of a test fall on the same day, whatever the wall clock does.
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _everything() -> dict[str, list[dict]]:
    """Every row the command writes, with every column, so a second run that rewrote anything would show."""
    User = get_user_model()
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Organization, Page, Membership, AudienceSnapshot, User, Token)
    }


def test_seed_demo_run_twice_changes_nothing_and_creates_no_duplicates():
    _seed()
    first = _everything()
    _seed()
    assert _everything() == first
    assert len(first["Organization"]) >= 40
    assert len(first["Page"]) >= 100


def test_seed_demo_creates_a_login_with_a_stable_token_for_every_role():
    output = _seed()
    memberships = Membership.objects.select_related("user", "page", "region", "organization")
    assert {membership.role for membership in memberships} == set(Role.values)
    User = get_user_model()
    for spec in USERS:
        user = User.objects.get(username=spec.username)
        assert Token.objects.get(user=user).key == demo_token_key(spec.username)
        assert spec.username in output and demo_token_key(spec.username) in output
        if spec.role == Role.INTEGRATION:
            assert not user.has_usable_password()
        else:
            assert user.check_password(DEMO_PASSWORD)
    by_role = {membership.role: membership for membership in memberships}
    assert by_role[Role.FEDERAL_ADMIN].user.is_superuser
    assert by_role[Role.INTEGRATION].page is not None
    assert not by_role[Role.INTEGRATION].user.is_staff
    for role in (Role.OPERATOR, Role.ANALYST):
        assert all(m.user.is_staff for m in memberships if m.role == role)
    operators = [m.organization_id for m in memberships if m.role == Role.OPERATOR]
    assert len(set(operators)) == 2, "two operators of two different organisations"
    assert {m.region is None for m in memberships if m.role == Role.AUDITOR} == {True, False}


def test_demo_token_authenticates_an_api_call_with_the_users_scope(client):
    _seed()
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {demo_token_key('analyst_moscow')}")
    assert response.status_code == 200
    assert response.json()["roles"] == [Role.ANALYST]


def test_operators_analysts_and_the_administrator_sign_in_to_the_admin_and_auditors_do_not(client):
    _seed()
    for username, expected in (
        ("operator_school", 200),
        ("analyst_moscow", 200),
        ("admin", 200),
        ("auditor_federal", 302),  # not staff: sent back to the login page
    ):
        client.logout()
        assert client.login(request=HttpRequest(), username=username, password=DEMO_PASSWORD)  # axes needs it
        assert client.get("/admin/").status_code == expected, username


def test_seed_demo_refuses_production_settings(settings):
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(CommandError):
        _seed()
    assert not Organization.objects.exists()


def test_seed_demo_registry_spans_regions_kinds_and_platforms_with_valid_numbers():
    _seed()
    organizations = Organization.objects.select_related("region")
    assert {o.region.code for o in organizations} >= {
        "RU-MOW",
        "RU-KGD",
        "RU-SVE",
        "RU-NVS",
        "RU-PRI",
        "RU-CHU",
        "RU-AST",
    }
    assert {o.kind for o in organizations} >= set(OrganizationKind.values) - {"federal_body", "other"}
    assert all(ogrn_is_valid(o.ogrn) and inn_is_valid(o.inn) for o in organizations)
    assert any(o.parent_id for o in organizations)
    assert any(o.timezone for o in organizations)
    assert any(o.office_opens_at != dt.time(9, 0) for o in organizations)
    pages = Page.objects.all()
    assert {page.platform for page in pages} == set(Platform.values)
    assert any(page.verified for page in pages) and any(not page.verified for page in pages)
    assert all(page.webhook_secret for page in pages if page.platform != Platform.OK)


def test_seed_demo_writes_sixty_days_of_audience_per_page_ending_today():
    _seed()
    page_count = Page.objects.count()
    # The last 60 days (ratings.demo adds older figures of the governments' MAX channels, around 1 December 2025).
    snapshots = AudienceSnapshot.objects.filter(date__gt=TODAY - dt.timedelta(days=AUDIENCE_DAYS))
    assert snapshots.count() == page_count * AUDIENCE_DAYS
    dates = set(snapshots.values_list("date", flat=True))
    assert max(dates) == TODAY
    assert min(dates) == TODAY - dt.timedelta(days=AUDIENCE_DAYS - 1)


def test_the_school_operator_has_appeals_in_every_state_with_replies_and_history():
    from appeals import sla
    from appeals.models import Appeal, AppealEvent, Reply
    from appeals.selectors import appeals_visible_to

    _seed()
    operator = get_user_model().objects.get(username="operator_school")
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    mine = appeals_visible_to(operator).filter(external_id__startswith="desk-")
    assert {a.organization.short_name for a in mine.select_related("organization")} == {"Школа № 1571"}
    assert set(mine.values_list("status", flat=True)) >= {
        "new", "in_progress", "waiting", "answered", "closed", "rejected", "redirected",
    }  # fmt: skip
    states = ("on_track", "at_risk", "breached", "met", "paused")
    assert [state for state in states if mine.filter(sla.sla_state_q(state, now)).exists()] == list(states)
    assert mine.filter(sla.overdue_q(now)).exists()
    answered = mine.filter(first_responded_at__isnull=False)
    assert answered.filter(sla.first_response_on_time_q()).exists() and any(sla.was_late(a) for a in answered)
    assert mine.filter(duplicate_of__isnull=False).exists()
    assert mine.filter(kind="appeal", extended_at__isnull=False).exists()
    assert mine.filter(assignee=operator).exists()
    reopened = AppealEvent.objects.filter(appeal__in=mine, action="reopened")
    assert reopened.exists(), "a reopened case"
    assert Reply.objects.filter(appeal__in=mine, kind="public").exists()
    assert Reply.objects.filter(appeal__in=mine).exclude(kind="public").exists(), "an internal note"
    assert (
        not Appeal.objects.filter(external_id__startswith="desk-")
        .exclude(organization__short_name="Школа № 1571")
        .exclude(redirected_from__isnull=False)
        .exists()
    )


def test_seeding_the_desk_twice_adds_no_appeal_event_or_reply():
    from appeals.models import Appeal, AppealEvent, Reply

    _seed()
    counts = (Appeal.objects.count(), AppealEvent.objects.count(), Reply.objects.count())
    output = _seed()
    assert (Appeal.objects.count(), AppealEvent.objects.count(), Reply.objects.count()) == counts
    assert "operator_school: 0 appeals created" in output
