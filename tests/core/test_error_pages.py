"""A person browsing gets Russian HTML error pages; the API and JSON clients keep the one JSON shape."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False  # the handlers only answer with DEBUG off; DEBUG shows Django's technical pages


def test_the_site_root_leads_a_browser_to_the_desk(client):
    response = client.get("/", **BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_site_root_leads_a_json_client_to_the_api_root(client):
    response = client.get("/", HTTP_ACCEPT="application/json")
    assert response.status_code == 302
    assert response["Location"] == "/api/v1/"


@pytest.mark.parametrize("path", ["/nonexistent", "/admin/unknown/", "/admin/appeals/nosuchmodel/"])
def test_a_missing_page_is_a_russian_html_page(client, world, path):
    client.force_login(world.admin)
    response = client.get(path, **BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Страница не найдена" in html and "/admin/" in html
    assert "Not Found" not in html and "<link" not in html and "<script" not in html  # no external assets


def test_a_missing_page_still_answers_json_to_a_client_asking_for_it(client):
    response = client.get("/nonexistent", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "message": "Не найдено.", "fields": {}}


def test_a_missing_api_url_stays_json_even_for_a_browser(client):
    response = client.get("/api/v1/no-such-thing/", **BROWSER)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_form_posted_without_its_csrf_token_gets_a_russian_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"}, **BROWSER)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Доступ запрещён" in html and "обновите страницу" in html
    assert "CSRF verification failed" not in html


def test_a_csrf_failure_answers_json_to_a_json_client():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_a_crash_outside_the_api_is_a_russian_page(rf):
    from core.errors import server_error_view

    response = server_error_view(rf.get("/admin/", **BROWSER))
    assert response.status_code == 500
    assert "Ошибка сервера" in response.content.decode()


def test_a_permission_denied_outside_the_api_is_a_russian_page(rf):
    from core.errors import permission_denied_view

    response = permission_denied_view(rf.get("/admin/publics/", **BROWSER))
    assert response.status_code == 403
    assert "Доступ запрещён" in response.content.decode()


def test_the_admin_link_to_the_site_does_not_lead_to_a_404(client, world):
    client.force_login(world.operator_a)
    site_url = client.get("/admin/").context["site_url"]
    assert client.get(site_url, **BROWSER, follow=True).status_code == 200
