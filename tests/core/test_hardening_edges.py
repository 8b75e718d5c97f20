"""Edges an outside test found (issue 7): bad input answers 400 in the one error shape, never 500."""

import pytest

from tests.factories import make_inn, make_ogrn


def _post_raw(api, user, path: str, body: str):
    return api.as_user(user).generic("POST", path, body.encode(), content_type="application/json")


@pytest.mark.parametrize(
    "body",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 100_000],
    ids=["nested_lists", "nested_objects", "unclosed_lists"],
)
def test_deeply_nested_json_answers_400_in_the_error_shape(api, world, body):
    response = _post_raw(api, world.admin, "/api/v1/organizations/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert set(response.json()) == {"status", "code", "message", "fields"}


def test_json_nested_a_little_beyond_the_limit_is_refused_before_any_serializer_sees_it(api, world):
    body = '{"name": ' + "[" * 70 + "]" * 70 + "}"
    response = _post_raw(api, world.admin, "/api/v1/organizations/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_malformed_json_answers_in_russian(api, world):
    response = _post_raw(api, world.admin, "/api/v1/organizations/", '{"name": ')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert "JSON parse error" not in body["message"]
    assert "JSON" in body["message"] and "строка 1" in body["message"]


def test_malformed_json_answers_in_english_when_asked(api, world):
    client = api.as_user(world.admin)
    response = client.generic(
        "POST", "/api/v1/organizations/", b"{", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("The request body is not valid JSON")


def test_ordinary_json_still_parses(api, world):
    payload = {"name": "Школа №3", "kind": "school", "region": "RU-MOW", "ogrn": make_ogrn(77), "inn": make_inn(77)}
    response = api.as_user(world.admin).post("/api/v1/organizations/", payload, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("path", ["/api/v1/nonexistent/", "/api/nothing/here", "/api/v1/appeals/1/bogus-action/"])
def test_an_unknown_api_url_answers_the_json_404_even_with_debug_on(api, world, settings, path):
    settings.DEBUG = True
    response = api.as_user(world.admin).get(path, follow=True)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/appeals/",
        "/api/v1/organizations/",
        "/api/v1/pages/",
        "/api/v1/regions/",
        "/api/v1/categories/",
        "/api/v1/sla-policies/",
        "/api/v1/calendar-overrides/",
    ],
)
def test_an_unknown_ordering_answers_400_on_every_list(api, world, path):
    response = api.as_user(world.admin).get(path, {"ordering": "bogus"})
    body = response.json()
    assert response.status_code == 400, body
    assert list(body["fields"]) == ["ordering"]
    assert "bogus" in body["fields"]["ordering"][0] and ", -" in body["fields"]["ordering"][0]  # lists the allowed


def test_a_known_ordering_with_an_unknown_one_beside_it_is_still_refused(api, world):
    response = api.as_user(world.admin).get("/api/v1/organizations/", {"ordering": "name,-nmae"})
    assert response.status_code == 400
    assert "-nmae" in response.json()["fields"]["ordering"][0]


def test_known_orderings_still_sort(api, world):
    response = api.as_user(world.admin).get("/api/v1/organizations/", {"ordering": "-name,id"})
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == sorted(names, reverse=True)


def test_the_schema_lists_the_allowed_orderings_of_each_list(api, world):
    schema = api.as_user(world.admin).get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/organizations/"]["get"]["parameters"]
    ordering = next(parameter for parameter in parameters if parameter["name"] == "ordering")
    assert set(ordering["schema"]["items"]["enum"]) == {
        value for name in ["id", "name", "kind", "created_at", "updated_at"] for value in (name, f"-{name}")
    }
    assert "`-name`" in ordering["description"]


@pytest.mark.parametrize("path", ["/api/redoc/", "/api/docs/"])
def test_the_docs_pages_load_nothing_from_another_host(client, path):
    import re

    response = client.get(path, HTTP_HOST="testserver")
    assert response.status_code == 200
    html = response.content.decode()
    external = [url for url in re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html) if "//testserver" not in url]
    assert external == [], external
    assert "/static/drf_spectacular_sidecar/" in html  # the scripts are served by the app itself


def test_a_body_over_the_upload_limit_answers_413_in_the_error_shape(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = _post_raw(api, world.admin, "/api/v1/organizations/", '{"name": "' + "x" * 500 + '"}')
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and "100" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/organizations/", "/admin/login/"])
def test_too_many_form_fields_answer_400_with_the_reason(api, world, settings, path):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = api.as_user(world.admin).generic(
        "POST", path, b"a=1&b=2&c=3&d=4&e=5", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["code"] == "too_many_fields"
    else:  # a person's form: the Russian page (tests/core/test_error_pages.py), with the same message
        assert "В запросе слишком много полей или файлов." in response.content.decode()


def test_an_unknown_api_url_posted_with_a_session_answers_the_json_404_not_a_csrf_page(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    response = client.post("/api/v1/appeals/1.5/assign/", {})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
