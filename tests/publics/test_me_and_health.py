import pytest

from tests.assertions import assert_error

pytestmark = pytest.mark.django_db


def test_me_lists_roles_and_scopes(api, world):
    body = api.as_user(world.operator_a).get("/api/v1/me/").json()
    assert body["roles"] == ["operator"]
    assert body["sees_everything"] is False
    assert body["memberships"][0]["organization"] == world.org_a.id


def test_me_of_an_auditor_shows_masked_personal_data(api, world):
    body = api.as_user(world.auditor_federal).get("/api/v1/me/").json()
    assert body["roles"] == ["auditor"] and body["sees_everything"] is True
    assert body["can_view_personal_data"] is False


def test_me_of_a_stranger_has_no_scope(api, world):
    body = api.as_user(world.stranger).get("/api/v1/me/").json()
    assert body["roles"] == [] and body["memberships"] == []


def test_me_needs_authentication(api):
    assert_error(api.get("/api/v1/me/"), 401)


def test_bad_token_is_401(api, db):
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(api.get("/api/v1/me/"), 401)


def test_healthz_checks_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_reports_a_broker_failure_as_503(client, db, monkeypatch):
    from core import views

    def broken():
        raise ConnectionError("down")

    monkeypatch.setattr(views, "_check_broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: ConnectionError"


def test_unknown_api_url_is_a_json_404(client, db, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_malformed_json_is_a_400(api, world):
    response = api.as_user(world.admin).post("/api/v1/pages/", data="{nope", content_type="application/json")
    assert_error(response, 400)


def test_schema_and_docs_are_served_without_a_cdn(client, db):
    assert client.get("/api/schema/").status_code == 200
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url).content.decode()
        assert "cdn.jsdelivr.net" not in page and "/static/drf_spectacular_sidecar/" in page


def test_api_root_links_every_collection(client, db):
    body = client.get("/api/v1/").json()
    assert body["appeals"].endswith("/api/v1/appeals/")
    assert body["docs"].endswith("/api/docs/")


def test_a_revoked_role_takes_effect_on_the_next_request(api, world):
    from publics.models import Membership

    client = api.as_user(world.operator_a)
    assert client.get(f"/api/v1/organizations/{world.org_a.id}/").status_code == 200
    Membership.objects.filter(user=world.operator_a).get().delete()
    world.operator_a.refresh_from_db()
    assert_error(client.get(f"/api/v1/organizations/{world.org_a.id}/"), 404)
    Membership.objects.create(user=world.operator_a, role="operator", organization=world.org_a)
    assert client.get(f"/api/v1/organizations/{world.org_a.id}/").status_code == 200
