"""Shared personas (style.md): operators of organisations A and B, an analyst of region X, auditors, an admin.

Organisation A is in Moscow (RU-MOW), organisation B in Kaliningrad (RU-KGD); the analyst's region X is Moscow.
"""

import os
from dataclasses import dataclass

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import OrganizationFactory, PageFactory, UserFactory, member, region

NO_SKIP = os.environ.get("OTKLIK_NO_SKIP") == "1"
# The users of the `world` fixture, one per role (and a stranger with no role).
PERSONAS = (
    "operator_a",
    "operator_b",
    "analyst_x",
    "auditor_x",
    "auditor_federal",
    "admin",
    "integration_a",
    "stranger",
)


def pytest_configure(config):
    # Parallel test processes (pytest-xdist) share one Redis server but not their databases: each uses a Redis
    # database of its own, or one process's cache.clear() (a FLUSHDB) would empty another's cached memberships.
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache = settings.CACHES["default"]
    if worker.startswith("gw") and cache["BACKEND"].endswith("RedisCache"):
        base = cache["LOCATION"].rsplit("/", 1)[0] if cache["LOCATION"].count("/") > 2 else cache["LOCATION"]
        cache["LOCATION"] = f"{base}/{10 + int(worker[2:])}"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` or `redis` skip, with the reason, where that server is not configured."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(settings.REDIS_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://..."))


def pytest_sessionfinish(session, exitstatus):
    # In CI (OTKLIK_NO_SKIP=1) a skipped test is a failure: everything must run against the real servers.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if NO_SKIP and reporter and reporter.stats.get("skipped"):
        reporter.write_line(f"{len(reporter.stats['skipped'])} test(s) skipped, which CI does not allow.", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fresh_sla_caches():
    """Policies and calendars are cached per process; each test starts from its own database state."""
    from django.core.cache import cache

    from appeals import sla

    sla.forget_local("policies")
    sla.forget_local("calendar")
    cache.clear()  # cached memberships are keyed by user id, which a rolled-back test may hand out again
    yield


@dataclass
class World:
    org_a: object
    org_b: object
    page_a: object
    page_b: object
    operator_a: object
    operator_b: object
    analyst_x: object
    auditor_x: object
    auditor_federal: object
    admin: object
    integration_a: object
    stranger: object


def ensure_reference_data() -> None:
    """Migrations load regions, categories and default policies; a transactional test's flush removes them."""
    from appeals.models import Category, SlaPolicy
    from appeals.reference_data import load_reference_data
    from publics.models import Region
    from publics.regions_data import load_regions

    if not Region.objects.exists():
        load_regions(Region)
    if not SlaPolicy.objects.exists():
        load_reference_data(Category, SlaPolicy)


@pytest.fixture
def world(db) -> World:
    ensure_reference_data()
    moscow, kaliningrad = region("RU-MOW"), region("RU-KGD")
    org_a = OrganizationFactory(name="Школа №1 (Москва)", region=moscow)
    org_b = OrganizationFactory(name="Больница №2 (Калининград)", region=kaliningrad, kind="hospital")
    page_a = PageFactory(organization=org_a, platform="vk")
    page_b = PageFactory(organization=org_b, platform="max")
    users = {name: UserFactory(username=name) for name in PERSONAS}
    member(users["operator_a"], "operator", organization=org_a)
    member(users["operator_b"], "operator", organization=org_b)
    member(users["analyst_x"], "analyst", region=moscow)
    member(users["auditor_x"], "auditor", region=moscow, can_view_personal_data=False)
    member(users["auditor_federal"], "auditor", can_view_personal_data=False)
    member(users["admin"], "federal_admin")
    member(users["integration_a"], "integration", page=page_a)
    return World(org_a=org_a, org_b=org_b, page_a=page_a, page_b=page_b, **users)


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it with the user's token, as outside clients do."""
    from tests.factories import token_for

    client = APIClient()

    def as_user(user):
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
