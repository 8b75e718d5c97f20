"""The admin's generic titles and messages read as Russian: the accusative where Django asks for it, the gender."""

import pytest
from django.contrib.messages import get_messages

from appeals.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def last_message(response) -> str:
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


def test_the_change_list_asks_to_choose_an_organisation_in_the_accusative(admin_client):
    response = admin_client.get("/admin/publics/organization/")
    assert response.context["title"] == "Выберите организацию для изменения"
    html = response.content.decode()
    assert "Выберите организацию для изменения" in html
    assert "Добавить организацию" in html and "Добавить организация" not in html


def test_a_read_only_list_asks_to_choose_for_viewing(client, world):
    client.force_login(world.operator_a)
    response = client.get("/admin/publics/organization/")
    assert response.context["title"] == "Выберите организацию для просмотра"


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/admin/publics/organization/add/", "Добавить организацию"),
        ("/admin/publics/page/add/", "Добавить страницу"),
        ("/admin/appeals/slapolicy/add/", "Добавить политику SLA"),
        ("/admin/appeals/category/add/", "Добавить категорию"),
        ("/admin/appeals/calendaroverride/add/", "Добавить корректировку производственного календаря"),
        ("/admin/publics/region/", "Выберите регион для просмотра"),
    ],
)
def test_titles_take_the_accusative(admin_client, url, title):
    assert admin_client.get(url).context["title"] == title


def test_the_change_page_of_an_organisation_says_change_it(admin_client, world):
    response = admin_client.get(f"/admin/publics/organization/{world.org_a.pk}/change/")
    assert response.context["title"] == "Изменить организацию"


def test_a_feminine_model_is_added_changed_and_deleted_in_the_feminine(admin_client):
    response = admin_client.post(
        "/admin/appeals/category/add/", {"code": "snow-removal", "name": "Дороги", "is_active": "on"}
    )
    assert response.status_code == 302
    category = Category.objects.get(code="snow-removal")
    assert last_message(response) == (
        f'Категория «<a href="/admin/appeals/category/{category.pk}/change/">Дороги</a>» добавлена.'
    )

    response = admin_client.post(
        f"/admin/appeals/category/{category.pk}/change/",
        {"code": "snow-removal", "name": "Дороги и тротуары", "is_active": "on", "_continue": "1"},
    )
    assert last_message(response) == (
        f'Категория «<a href="/admin/appeals/category/{category.pk}/change/">Дороги и тротуары</a>» изменена. '
        "Ниже можно продолжить редактирование."
    )

    response = admin_client.post(
        f"/admin/appeals/category/{category.pk}/change/",
        {"code": "snow-removal", "name": "Дороги", "is_active": "on", "_addanother": "1"},
    )
    assert last_message(response).endswith("изменена. Ниже можно добавить ещё одну категорию.")

    page = admin_client.get(f"/admin/appeals/category/{category.pk}/delete/")
    assert page.context["object_name"] == "категорию"
    response = admin_client.post(f"/admin/appeals/category/{category.pk}/delete/", {"post": "yes"})
    assert last_message(response) == "Категория «Дороги» удалена."


def test_a_masculine_model_keeps_the_masculine(admin_client, world):
    from publics.models import AudienceSnapshot

    snapshot = AudienceSnapshot.objects.create(page=world.page_a, date="2026-11-01", subscribers=10)
    response = admin_client.post(f"/admin/publics/audiencesnapshot/{snapshot.pk}/delete/", {"post": "yes"})
    assert last_message(response).startswith("Срез аудитории «") and last_message(response).endswith("» удалён.")
