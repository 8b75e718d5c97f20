"""Brute-force protection (issue 7, finding 7): password logins lock out, failed tokens are throttled."""

import logging

import pytest
from django.http import HttpRequest

from core.authentication import FailedTokenThrottle
from tests.assertions import assert_error
from tests.factories import token_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def small_limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TOKEN_AUTH_FAILURE_RATE = "3/min"


@pytest.fixture
def admin_user(world):
    world.admin.is_staff = True
    world.admin.set_password(PASSWORD)
    world.admin.save()
    return world.admin


def sign_in(client, path: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/"])
def test_repeated_wrong_passwords_lock_the_user_out_even_with_the_right_password(
    client, small_limits, admin_user, path
):
    for _ in range(2):
        assert sign_in(client, path, "admin", "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, path, "admin", "wrong").status_code == 429  # the third failure locks out

    response = sign_in(client, path, "admin", PASSWORD)

    assert response.status_code == 429
    text = response.content.decode()
    assert "Вход заблокирован" in text and "15 мин." in text
    assert "_auth_user_id" not in client.session


def test_a_user_locked_out_from_one_address_stays_locked_out_from_another(client, small_limits, admin_user):
    for number in range(3):
        sign_in(client, "/admin/login/", "admin", "wrong", address=f"10.0.1.{number}")
    assert sign_in(client, "/admin/login/", "admin", PASSWORD, address="10.0.2.1").status_code == 429


def test_an_address_trying_many_user_names_is_locked_out(client, small_limits, admin_user):
    for name in ("ivanov", "petrov", "sidorov"):
        sign_in(client, "/admin/login/", name, "wrong", address="10.0.3.1")
    assert sign_in(client, "/admin/login/", "admin", PASSWORD, address="10.0.3.1").status_code == 429
    assert sign_in(client, "/admin/login/", "admin", PASSWORD, address="10.0.3.2").status_code == 302


def test_a_failed_admin_login_is_logged(client, small_limits, admin_user, caplog):
    with caplog.at_level(logging.INFO, logger="axes"):
        sign_in(client, "/admin/login/", "admin", "wrong")
    failures = [record.getMessage() for record in caplog.records if "login failure" in record.getMessage()]
    assert failures and "admin" in failures[0] and "10.0.0.1" in failures[0]  # who and from where, not masked


def test_the_right_password_below_the_limit_signs_in(client, small_limits, admin_user):
    sign_in(client, "/admin/login/", "admin", "wrong")
    assert sign_in(client, "/admin/login/", "admin", PASSWORD).status_code == 302


def test_the_test_client_signs_in_when_given_the_request_axes_needs(client, admin_user):
    assert client.login(request=HttpRequest(), username="admin", password=PASSWORD)
    assert client.get("/admin/").status_code == 200


def bad_token(api, address: str = "10.1.0.1"):
    return api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token " + "0" * 40, REMOTE_ADDR=address)


def test_repeated_wrong_tokens_from_an_address_answer_429_with_retry_after(api, world, small_limits, caplog):
    for _ in range(3):
        assert bad_token(api).status_code == 401

    with caplog.at_level(logging.WARNING, logger="core.authentication"):
        response = bad_token(api)
    # The lockout was logged when the limit was reached, by the third failure; the fourth is refused uncounted.
    body = assert_error(response, 429)
    assert body["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60

    valid = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token_for(world.admin)}", REMOTE_ADDR="10.1.0.1")
    assert valid.status_code == 429, "a locked-out address may not try a token at all, a right one included"
    other = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token_for(world.admin)}", REMOTE_ADDR="10.1.0.2")
    assert other.status_code == 200


def test_reaching_the_token_failure_limit_is_logged(api, world, small_limits, caplog):
    with caplog.at_level(logging.WARNING, logger="core.authentication"):
        for _ in range(3):
            bad_token(api, address="10.1.1.1")
    lockouts = [record for record in caplog.records if "locked out" in record.getMessage()]
    assert len(lockouts) == 1 and "10.1.1.1" in lockouts[0].getMessage()


def test_a_forged_forwarded_for_header_does_not_escape_the_token_throttle(api, world, small_limits):
    for number in range(4):
        response = api.get(
            "/api/v1/me/",
            HTTP_AUTHORIZATION="Token " + "0" * 40,
            REMOTE_ADDR="10.1.2.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
    assert response.status_code == 429


class _BrokenCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("Redis is down")

    set = get_many = get


def test_with_the_cache_down_the_token_throttle_fails_open(api, world, small_limits, monkeypatch):
    monkeypatch.setattr(FailedTokenThrottle, "cache", _BrokenCache())
    for _ in range(5):
        assert bad_token(api).status_code == 401
    valid = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token_for(world.admin)}", REMOTE_ADDR="10.1.0.1")
    assert valid.status_code == 200


def test_a_known_token_costs_one_round_trip_to_the_cache_and_no_query(api, world, monkeypatch):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.access import memberships_cache_key
    from core.authentication import token_cache_key

    token = token_for(world.operator_a)
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200  # caches the token
    reads: list[tuple[str, object]] = []
    get, get_many = cache.get, cache.get_many
    monkeypatch.setattr(
        cache, "get", lambda key, *args, **kwargs: reads.append(("get", key)) or get(key, *args, **kwargs)
    )
    monkeypatch.setattr(
        cache, "get_many", lambda keys, *a, **k: reads.append(("get_many", tuple(keys))) or get_many(keys, *a, **k)
    )

    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json()["username"] == world.operator_a.username
    # (Django's local-memory cache answers get_many with a get per key: only the round trips to Redis count.)
    assert [read for read in reads if read[0] == "get_many"] == [
        ("get_many", ("throttle_failed_token_127.0.0.1", token_cache_key(token)))
    ]
    assert not [q for q in queries.captured_queries if "authtoken_token" in q["sql"]]
    assert ("get", memberships_cache_key(world.operator_a.pk)) not in reads  # the scope came with the token
    assert token not in token_cache_key(token)  # the cache never holds a usable token


def test_a_revoked_token_a_deactivated_user_and_a_changed_role_take_effect_on_the_next_request(api, world):
    from rest_framework.authtoken.models import Token

    from publics.models import Membership

    def me(token):
        return api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")

    token = token_for(world.operator_a)
    assert me(token).status_code == 200 and me(token).status_code == 200  # the second from the cache
    Token.objects.filter(key=token).get().delete()
    assert me(token).status_code == 401

    token = token_for(world.operator_b)
    assert me(token).status_code == 200
    world.operator_b.is_active = False
    world.operator_b.save()
    assert me(token).status_code == 401

    token = token_for(world.analyst_x)
    assert me(token).json()["roles"] == ["analyst"]
    Membership.objects.filter(user=world.analyst_x).delete()
    assert me(token).json()["roles"] == []
