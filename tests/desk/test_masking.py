"""Citizens' names are masked for auditors without the grant, in the API and in the desk alike (core.access)."""

import pytest

from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

NAME = "Сергей Иванов"


def change_url(appeal) -> str:
    return f"/admin/appeals/appeal/{appeal.pk}/change/"


def test_an_auditor_without_the_grant_never_sees_the_name_in_the_desk(client, world):
    appeal = make_appeal(world.page_a, author_name=NAME, author_platform_id="777")
    client.force_login(world.auditor_federal)
    page = client.get(change_url(appeal)).content.decode()
    assert "С*** И***" in page
    assert NAME not in page and "Сергей" not in page and "777" not in page


def test_an_operator_sees_the_name_in_the_desk(client, world):
    appeal = make_appeal(world.page_a, author_name=NAME, author_platform_id="777")
    client.force_login(world.operator_a)
    page = client.get(change_url(appeal)).content.decode()
    assert f"{NAME} (777)" in page


def test_one_users_rights_never_decide_what_another_sees_in_the_desk(client, world):
    # The admin instance is shared by all requests: open the page as an operator, then as the auditor.
    appeal = make_appeal(world.page_a, author_name=NAME, author_platform_id="777")
    client.force_login(world.operator_a)
    assert NAME in client.get(change_url(appeal)).content.decode()
    client.force_login(world.auditor_federal)
    assert NAME not in client.get(change_url(appeal)).content.decode()


def test_an_auditor_without_the_grant_never_sees_the_name_in_the_api(api, world):
    appeal = make_appeal(world.page_a, author_name=NAME, author_platform_id="777")
    client = api.as_user(world.auditor_federal)
    detail = client.get(f"/api/v1/appeals/{appeal.pk}/").json()
    listed = client.get("/api/v1/appeals/").json()["results"][0]
    for shown in (detail["author"], listed["author"]):
        assert shown == {"platform_user_id": "", "name": "С*** И***"}
    assert api.as_user(world.operator_a).get(f"/api/v1/appeals/{appeal.pk}/").json()["author"]["name"] == NAME


def test_search_never_finds_an_appeal_by_a_name_the_caller_sees_masked(api, world):
    appeal = make_appeal(world.page_a, author_name=NAME, text="Не вывезли мусор")
    auditor = api.as_user(world.auditor_federal)
    assert auditor.get("/api/v1/appeals/", {"search": "Сергей Иванов"}).json()["results"] == []
    assert auditor.get("/api/v1/appeals/", {"search": "Иван"}).json()["results"] == []
    found = auditor.get("/api/v1/appeals/", {"search": "мусор"}).json()["results"]
    assert [row["id"] for row in found] == [appeal.pk]
    operator = api.as_user(world.operator_a)
    assert [row["id"] for row in operator.get("/api/v1/appeals/", {"search": "Сергей"}).json()["results"]] == [
        appeal.pk
    ]


def test_desk_search_never_finds_an_appeal_by_a_name_the_user_sees_masked(client, world):
    make_appeal(world.page_a, author_name=NAME, text="Уникальный текст обращения")
    client.force_login(world.auditor_federal)
    assert "Уникальный текст" not in client.get("/admin/appeals/appeal/", {"q": "Сергей"}).content.decode()
    assert "Уникальный текст" in client.get("/admin/appeals/appeal/", {"q": "Уникальный"}).content.decode()
    client.force_login(world.operator_a)
    assert "Уникальный текст" in client.get("/admin/appeals/appeal/", {"q": "Сергей"}).content.decode()
