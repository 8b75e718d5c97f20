"""Every operation of /api/schema/ under generated requests (schemathesis), as a federal administrator, an
operator of one organisation, a regional analyst and a regional auditor without personal data.

Each operation gets a bounded, reproducible set of requests, valid and deliberately invalid; every response
must be a non-5xx with a status code, content type, headers and body that the schema documents. The schema is
read from the app itself, so a new operation is tested as soon as it is routed.

The app is called in-process (WSGI) on the test's own connection, inside the test's transaction, which is
rolled back at the end (a flush per test, as `transaction=True` would do, cost 0.8 s per operation on
PostgreSQL). So that this behaves like committed requests:
- each request runs in a savepoint, rolled back when it fails (a 5xx, or a database error the app turned into
  a 4xx): on PostgreSQL a failed statement aborts the whole transaction, and every later request would then
  fail and be blamed;
- the on-commit callbacks of a request that succeeded are run, as its commit would;
- the WSGI handler's `close_old_connections` is disconnected, as Django's own test client does, or it would
  close the test's connection between requests.

A deeper local hunt: `OTKLIK_SCHEMA_MAX_EXAMPLES=200 .venv/bin/python -m pytest tests/test_api_schema.py`.
"""

import copy
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from psycopg.pq import TransactionStatus
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from publics.models import AudienceSnapshot
from tests.factories import OrganizationFactory, PageFactory, UserFactory, make_appeal, member, region, token_for

# Loaded at collection time: serving the schema to an anonymous caller touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# The coverage phase enumerates boundary values of every parameter, unbounded by max_examples: it multiplied
# the run time by five. Examples and fuzzing keep the number of requests per operation bounded.
schema.config.phases.update(phases=["examples", "fuzzing"])

MAX_EXAMPLES = int(os.environ.get("OTKLIK_SCHEMA_MAX_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PERSONAS = ["federal_admin", "operator_a", "analyst_x", "auditor_x"]


@dataclass
class Known:
    """Values that exist in the seeded database, onto which the hooks steer part of the generated input.

    Random ids almost always miss (404, or 400 "unknown page"), which would leave the success responses of
    detail views, actions, updates and bulk writes untested. Refreshed by `seeded` for every test: a rollback
    does not rewind sequences, so ids differ from test to test.
    """

    path_values: dict[str, list[Any]] = field(default_factory=dict)  # path parameter name -> existing values
    organization_ids: list[int] = field(default_factory=list)
    page_ids: list[int] = field(default_factory=list)
    region_codes: list[str] = field(default_factory=lambda: ["RU-MOW", "RU-KGD"])


KNOWN = Known()


def _anchored(body: Any, salt: int) -> Any:
    """A copy of a generated body whose reference fields point at seeded objects.

    Only values already of the right type are replaced, so a deliberately wrong type stays wrong. The field
    names are the API's own (domain.md section 9), shared by every app.
    """
    counter = salt

    def pick(choices: list) -> Any:
        nonlocal counter
        counter += 1
        return choices[counter % len(choices)]

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        result = {}
        for key, value in node.items():
            if key in ("organization", "parent") and type(value) is int and KNOWN.organization_ids:
                result[key] = pick(KNOWN.organization_ids)
            elif key == "page" and type(value) is int and KNOWN.page_ids:
                result[key] = pick(KNOWN.page_ids)
            elif key == "region" and isinstance(value, str):
                result[key] = pick(KNOWN.region_codes)
            else:
                result[key] = walk(value)
        return result

    return walk(copy.deepcopy(body))


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> Any:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)  # None for operations without path parameters
    existing = {
        name: st.sampled_from(KNOWN.path_values[name])
        for name, value in path_parameters.items()
        # Same type as the seeded values only: a wrong-typed (negative) value must stay wrong.
        if KNOWN.path_values.get(name) and type(value) is type(KNOWN.path_values[name][0])
    }
    if not existing:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**path_parameters, **existing}))


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> Any:
    if not isinstance(body, (dict, list)):
        return st.just(body)
    return st.one_of(st.just(body), st.integers(min_value=0, max_value=1000).map(lambda salt: _anchored(body, salt)))


def _existing_path_values(client: APIClient, operation_label: str) -> dict[str, list[Any]]:
    """Existing values of the operation's path parameters, read from its collection as the administrator.

    `GET /api/v1/appeals/{id}/events/` lists `/api/v1/appeals/` and takes the `id` of each row, so any
    resource added later gets real ids without this test knowing about it.
    """
    match = re.match(r"^\S+ (/api/v1/[^{]+)\{(\w+)\}", operation_label)
    if not match:
        return {}
    collection, name = match.groups()
    response = client.get(collection)
    if response.status_code != 200:
        return {}
    body = response.json()
    rows = body.get("results", []) if isinstance(body, dict) else body
    values = [row[name] for row in rows if isinstance(row, dict) and row.get(name) is not None]
    return {name: values} if values else {}


@contextmanager
def request_on_test_connection() -> Iterator[None]:
    """Keep the WSGI handler's request signals from closing the test's connection, for one request.

    Per request, as django.test.Client does: that client connects the handler back after each of its own
    requests, so a fixture-wide disconnection would not hold.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _transaction_aborted() -> bool:
    """PostgreSQL refuses every statement after a failed one until a rollback, even if the app answered 4xx."""
    if connection.vendor != "postgresql":
        return False
    return connection.connection.info.transaction_status == TransactionStatus.INERROR


@pytest.fixture
def seeded(db: None, request: pytest.FixtureRequest) -> dict[str, str]:
    """Two organisations in two regions, with pages, snapshots and appeals; returns a token per persona."""
    moscow, kaliningrad = region("RU-MOW"), region("RU-KGD")
    org_a = OrganizationFactory(name="Школа №1 (Москва)", region=moscow)
    child_a = OrganizationFactory(name="Филиал школы №1", region=moscow, parent=org_a)
    org_b = OrganizationFactory(name="Больница №2 (Калининград)", region=kaliningrad, kind="hospital")
    pages = [
        PageFactory(organization=org_a, platform="vk", is_primary=True),
        PageFactory(organization=child_a, platform="telegram"),
        PageFactory(organization=org_b, platform="max"),
    ]
    for page in pages:
        AudienceSnapshot.objects.create(page=page, date="2026-01-01", subscribers=1200, views=5000, posts=3)
        make_appeal(page)
    admin, operator = UserFactory(username="admin"), UserFactory(username="operator_a")
    analyst, auditor = UserFactory(username="analyst_x"), UserFactory(username="auditor_x")
    member(admin, "federal_admin")
    member(operator, "operator", organization=org_a)
    member(analyst, "analyst", region=moscow)
    member(auditor, "auditor", region=moscow, can_view_personal_data=False)
    tokens = {
        "federal_admin": token_for(admin),
        "operator_a": token_for(operator),
        "analyst_x": token_for(analyst),
        "auditor_x": token_for(auditor),
    }

    KNOWN.organization_ids = [org_a.pk, child_a.pk, org_b.pk]
    KNOWN.page_ids = [page.pk for page in pages]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['federal_admin']}")
    KNOWN.path_values = _existing_path_values(client, getattr(request.node, "operation_label", None) or "")
    return tokens


@pytest.mark.slow
@pytest.mark.parametrize("persona", PERSONAS)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run and machine: a failure reproduces
    database=None,  # and nothing is written to .hypothesis/
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case,
    seeded: dict[str, str],
    persona: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    headers = {"Authorization": f"Token {seeded[persona]}"}
    savepoint = transaction.savepoint()
    with request_on_test_connection(), django_capture_on_commit_callbacks() as callbacks:
        response = case.call(headers=headers)
    if response.status_code >= 500 or _transaction_aborted():
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
        for callback in callbacks:
            callback()
    case.validate_response(response, checks=CHECKS, headers=headers)
