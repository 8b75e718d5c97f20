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
