"""The registry's admin forms: an organisation's pages in its form follow the scope, as on the pages' own list."""

from publics.models import Page
from tests.admin_forms import change_form_data, inline_prefix


def test_whoever_may_change_an_organisation_sees_and_changes_its_pages(client, world):
    client.force_login(world.admin)  # a federal administrator through a membership, not a Django superuser
    url = f"/admin/publics/organization/{world.org_a.pk}/change/"
    response = client.get(url)
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_change_permission and inline.has_add_permission
    assert [form.instance.pk for form in inline.formset.forms if form.instance.pk] == [world.page_a.pk]
    # Django's «Добавить еще один Страница» agrees with no feminine noun: the catalogue's form agrees with any.
    assert "Добавить ещё: Страница" in response.content.decode()
    data = change_form_data(response)
    prefix = inline_prefix(data)
    data[f"{prefix}-0-title"] = "Школа № 1 ВКонтакте"

    assert client.post(url, data).status_code == 302
    assert Page.objects.get(pk=world.page_a.pk).title == "Школа № 1 ВКонтакте"


def test_an_auditor_reads_an_organisations_pages_without_changing_them(client, world):
    client.force_login(world.auditor_federal)
    response = client.get(f"/admin/publics/organization/{world.org_a.pk}/change/")
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert not inline.has_change_permission and not inline.has_add_permission and not inline.has_delete_permission
    page = response.content.decode()
    assert world.page_a.title in page and world.page_b.title not in page
    assert f'name="{inline.formset.prefix}-0-title"' not in page  # shown, not offered for editing


def test_another_organisations_pages_are_not_shown(client, world):
    client.force_login(world.operator_a)
    response = client.get(f"/admin/publics/organization/{world.org_b.pk}/change/")
    assert response.status_code in (302, 404)
    assert world.page_b.title not in response.content.decode()


def test_two_primary_pages_on_one_platform_in_one_save_are_refused_with_a_message(client, world):
    """Each new row passes its own checks; the second conflicts with the first only once that is saved. The save is
    refused whole, with the reason on the page, not a server error."""
    client.force_login(world.admin)
    url = f"/admin/publics/organization/{world.org_a.pk}/change/"
    data = change_form_data(client.get(url))
    prefix = inline_prefix(data)
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 2)
    for offset, platform_id in enumerate(("777001", "777002")):
        row = {"platform": "max", "platform_id": platform_id, "title": f"MAX {platform_id}", "category": "active"}
        row |= {"is_primary": "on", "is_active": "on"}
        data.update({f"{prefix}-{index + offset}-{name}": value for name, value in row.items()})

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert not Page.objects.filter(platform_id__in=["777001", "777002"]).exists()
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["У организации уже есть основная страница на этой платформе."]
