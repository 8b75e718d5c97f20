"""The CSV registry import: the service, the API endpoint and the management command."""

import csv
import io
import sqlite3
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from publics.imports import ALL_COLUMNS, PAGE_COLUMNS, ImportResult, registry_import
from publics.models import Organization, Page
from tests.assertions import assert_error
from tests.factories import PageFactory, make_inn, make_ogrn

URL = "/api/v1/imports/registry/"
PARENT_OGRN = make_ogrn(5_000_000)
SCHOOL_OGRN = make_ogrn(5_000_001)
CLINIC_OGRN = make_ogrn(5_000_002)


@pytest.fixture(autouse=True)
def english(api):
    """The messages are asserted in their English source text: the command in English, the API asked for it."""
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def bad_check_digit(ogrn: str) -> str:
    return ogrn[:-1] + str((int(ogrn[-1]) + 1) % 10)


def csv_bytes(
    rows: list[dict[str, Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
    columns: tuple[str, ...] = ALL_COLUMNS,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n", restval="", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def row(**cells: Any) -> dict[str, Any]:
    """A row for a Moscow school with a VK page; keyword arguments override cells ("" empties one)."""
    defaults = {
        "org_name": "Школа №5",
        "org_short_name": "Школа 5",
        "org_kind": "school",
        "region": "RU-MOW",
        "ogrn": SCHOOL_OGRN,
        "inn": make_inn(7_800_001),
        "platform": "vk",
        "platform_id": "club500001",
        "url": "https://vk.com/club500001",
        "title": "Школа №5 — официальная страница",
        "verified": "да",
        "category": "active",
        "is_primary": "1",
        "is_active": "true",
    }
    return {**defaults, **cells}


def organization_only(**cells: Any) -> dict[str, Any]:
    """A row that describes an organisation only: every page cell is empty."""
    return {**row(**cells), **dict.fromkeys(PAGE_COLUMNS, "")}


def onboarding_rows() -> list[dict[str, Any]]:
    """A department (organisation only, defined after its school), a school with two pages, a clinic under
    an organisation already stored."""
    return [
        row(),
        row(platform="max", platform_id="-7001", url="", title="Школа №5 в MAX", is_primary="нет"),
        organization_only(
            org_name="Департамент образования",
            org_short_name="ДОНМ",
            org_kind="regional_executive_body",
            ogrn=PARENT_OGRN,
            inn="",
            org_timezone="Europe/Moscow",
            office_opens_at="08:30",
            office_closes_at="17:15",
        ),
        row(
            org_name="Поликлиника №3",
            org_short_name="",
            org_kind="clinic",
            ogrn=CLINIC_OGRN,
            inn="",
            parent_ogrn="",
            platform="telegram",
            platform_id="clinic3",
            url="https://t.me/clinic3",
            title="Поликлиника №3",
            category="card",
            verified="0",
            is_primary="false",
        ),
    ]


def with_parents(rows: list[dict[str, Any]], world) -> list[dict[str, Any]]:
    rows[0]["parent_ogrn"] = PARENT_OGRN  # defined later in the same file
    rows[3]["parent_ogrn"] = world.org_a.ogrn  # already stored
    return rows


def problems(result: ImportResult) -> list[tuple[int | None, str | None]]:
    return [(problem["line"], problem["field"]) for problem in result.errors]


def fresh(user):
    """The user as a new request would load it: its scope is computed anew."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def real_sqlite_parameter_limit(monkeypatch):
    """Django 5.2 assumes SQLite's historical limit of 999 parameters and so splits bulk writes into batches
    of about 70 rows; the linked SQLite allows far more. Tell Django the real limit, so that a 200-row file
    is one batch on SQLite as it is on PostgreSQL and the count measures the import, not Django's guess."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        monkeypatch.setattr(connection.features, "max_query_params", limit)


# The service


@pytest.mark.django_db
def test_good_file_creates_organizations_and_their_pages(world):
    result = registry_import(actor=world.analyst_x, source=csv_bytes(with_parents(onboarding_rows(), world)))

    assert result.errors == []
    assert (result.rows, result.organizations_created, result.pages_created) == (4, 3, 3)
    school = Organization.objects.get(ogrn=SCHOOL_OGRN)
    department = Organization.objects.get(ogrn=PARENT_OGRN)
    clinic = Organization.objects.get(ogrn=CLINIC_OGRN)
    assert school.parent == department and clinic.parent == world.org_a
    assert (school.name, school.kind, school.region.code) == ("Школа №5", "school", "RU-MOW")
    assert department.office_opens_at.isoformat() == "08:30:00" and department.timezone == "Europe/Moscow"
    assert not department.pages.exists()
    vk = Page.objects.get(platform="vk", platform_id="club500001")
    assert (vk.organization, vk.verified, vk.is_primary, vk.is_active) == (school, True, True, True)
    max_page = Page.objects.get(platform="max", platform_id="-7001")
    assert (max_page.is_primary, max_page.url, max_page.category) == (False, "", "active")
    assert Page.objects.get(platform_id="clinic3").category == "card"


@pytest.mark.django_db
def test_running_the_same_file_again_changes_nothing(world):
    data = csv_bytes(with_parents(onboarding_rows(), world))
    registry_import(actor=world.analyst_x, source=data)
    stamps = dict(Organization.objects.values_list("pk", "updated_at"))
    page_stamps = dict(Page.objects.values_list("pk", "updated_at"))

    again = registry_import(actor=fresh(world.analyst_x), source=data)

    assert again.errors == []
    assert (again.organizations_created, again.organizations_updated, again.organizations_unchanged) == (0, 0, 3)
    assert (again.pages_created, again.pages_updated, again.pages_unchanged) == (0, 0, 3)
    assert dict(Organization.objects.values_list("pk", "updated_at")) == stamps
    assert dict(Page.objects.values_list("pk", "updated_at")) == page_stamps


@pytest.mark.django_db
def test_changed_cells_update_and_empty_cells_keep_stored_values(world):
    registry_import(actor=world.analyst_x, source=csv_bytes([row()]))
    page = Page.objects.get(platform_id="club500001")
    page.access_token = "token-typed-in-the-admin"
    page.save()

    result = registry_import(
        actor=fresh(world.analyst_x),
        source=csv_bytes([row(org_short_name="", title="Новое название", url="", inn="", verified="")]),
    )

    assert (result.organizations_unchanged, result.pages_updated) == (1, 1)
    page.refresh_from_db()
    assert (page.title, page.url, page.verified) == ("Новое название", "https://vk.com/club500001", True)
    assert page.access_token == "token-typed-in-the-admin"
    assert Organization.objects.get(ogrn=SCHOOL_OGRN).short_name == "Школа 5"


@pytest.mark.django_db
def test_organization_without_ogrn_is_matched_by_name_and_region(world):
    rows = [row(ogrn="", platform_id="club1"), row(ogrn="", platform_id="club2", is_primary="0")]
    registry_import(actor=world.analyst_x, source=csv_bytes(rows))

    again = registry_import(actor=fresh(world.analyst_x), source=csv_bytes([row(platform_id="club1")]))

    assert again.errors == []
    assert (again.organizations_updated, again.pages_unchanged) == (1, 1)
    assert Organization.objects.get(name="Школа №5").ogrn == SCHOOL_OGRN


@pytest.mark.django_db
def test_file_with_bad_rows_writes_nothing_and_reports_each_line(world):
    rows = [
        row(),  # line 2: good
        row(ogrn=bad_check_digit(CLINIC_OGRN), platform_id="club2", is_primary="0"),  # 3
        row(ogrn=CLINIC_OGRN, region="RU-XXX", platform_id="club3"),  # 4
        row(ogrn=make_ogrn(5_000_010), org_name="Школа №6", platform="facebook", platform_id="club4"),  # 5
        row(title="Другое название"),  # 6: the page of line 2 with different data
        row(ogrn=make_ogrn(5_000_011), org_name="Школа №7", region="RU-KGD", platform_id="club6"),  # 7
    ]
    before = (Organization.objects.count(), Page.objects.count())

    result = registry_import(actor=world.analyst_x, source=csv_bytes(rows))

    assert problems(result) == [(3, "ogrn"), (4, "region"), (5, "platform"), (6, "title"), (7, "region")]
    assert "line 2" in result.errors[3]["message"]
    assert result.errors[4]["message"] == "You may not create organizations in this region."
    assert (result.organizations_created, result.pages_created) == (0, 0)
    assert (Organization.objects.count(), Page.objects.count()) == before


@pytest.mark.django_db
def test_conflicts_inside_the_file_are_reported(world):
    rows = [
        row(),
        row(platform_id="club2"),  # 3: a second primary VK page of the same school
        row(org_kind="hospital", platform="ok", platform_id="ok1", is_primary="0"),  # 4: the school's kind differs
        row(ogrn=CLINIC_OGRN, org_name="Поликлиника", is_primary="0"),  # 5: the page of line 2, another organization
    ]

    result = registry_import(actor=world.analyst_x, source=csv_bytes(rows))

    assert problems(result) == [(3, "is_primary"), (4, "org_kind"), (5, "platform_id")]


@pytest.mark.django_db
def test_a_second_primary_page_next_to_a_stored_one_is_refused_but_a_swap_is_applied(world):
    # The page taking the mark over is stored first, so a single UPDATE would reach it before the old holder.
    PageFactory(organization=world.org_a, platform="ok", platform_id="ok-new", is_primary=False)
    old_primary = PageFactory(organization=world.org_a, platform="ok", platform_id="ok-old", is_primary=True)
    org_a = row(org_name=world.org_a.name, ogrn=world.org_a.ogrn, inn=world.org_a.inn, org_short_name="")
    refused = registry_import(
        actor=world.analyst_x, source=csv_bytes([{**org_a, "platform": "ok", "platform_id": "ok-new"}])
    )
    assert problems(refused) == [(2, "is_primary")]
    assert "ok-old" in refused.errors[0]["message"]

    swap = [
        {**org_a, "platform": "ok", "platform_id": "ok-new", "is_primary": "да"},
        {**org_a, "platform": "ok", "platform_id": "ok-old", "is_primary": "нет", "title": old_primary.title},
    ]
    result = registry_import(actor=fresh(world.analyst_x), source=csv_bytes(swap))

    assert result.errors == [] and result.pages_updated == 2
    assert list(Page.objects.filter(organization=world.org_a, platform="ok", is_primary=True)) == [
        Page.objects.get(platform_id="ok-new")
    ]


@pytest.mark.django_db
def test_a_parent_cycle_is_refused(world):
    rows = [
        organization_only(
            org_name=world.org_a.name, ogrn=world.org_a.ogrn, inn=world.org_a.inn, parent_ogrn=PARENT_OGRN
        ),
        row(org_name="Департамент", ogrn=PARENT_OGRN, parent_ogrn=world.org_a.ogrn, platform_id="club2"),
    ]

    result = registry_import(actor=world.analyst_x, source=csv_bytes(rows))

    assert problems(result) == [(2, "parent_ogrn"), (3, "parent_ogrn")]


@pytest.mark.django_db
def test_semicolon_delimiter_and_bom_are_read(world):
    result = registry_import(
        actor=world.analyst_x,
        source=csv_bytes(with_parents(onboarding_rows(), world), delimiter=";", bom=True),
    )

    assert result.errors == []
    assert (result.organizations_created, result.pages_created) == (3, 3)


@pytest.mark.django_db
def test_text_source_and_line_numbers_count_physical_lines_of_quoted_cells(world):
    rows = [row(title="Школа №5\nофициальная страница"), row(ogrn="123", platform_id="club2")]
    text = csv_bytes(rows).decode("utf-8")

    result = registry_import(actor=world.analyst_x, source=io.StringIO(text))

    assert problems(result) == [(4, "ogrn")]  # the quoted title of line 2 runs on to line 3


@pytest.mark.django_db
def test_header_problems_are_reported_on_line_1(world):
    data = csv_bytes([row()], columns=("org_name", "org_kind", "platfrom", "platform_id"))

    result = registry_import(actor=world.analyst_x, source=data)

    assert problems(result) == [(1, None), (1, None)]
    assert "platfrom" in result.errors[0]["message"] and "region" in result.errors[1]["message"]


@pytest.mark.django_db
def test_file_over_the_size_limit_or_not_utf8_is_refused_whole(world, settings):
    settings.IMPORT_MAX_BYTES = 100
    too_large = registry_import(actor=world.analyst_x, source=csv_bytes([row()]))
    settings.IMPORT_MAX_BYTES = 10_000
    not_utf8 = registry_import(actor=world.analyst_x, source="org_name\nШкола".encode("cp1251"))

    assert problems(too_large) == [(None, None)] and problems(not_utf8) == [(None, None)]


@pytest.mark.django_db
def test_dry_run_counts_but_writes_nothing(world):
    before = (Organization.objects.count(), Page.objects.count())

    result = registry_import(actor=world.analyst_x, source=csv_bytes(onboarding_rows()), dry_run=True)

    assert result.dry_run and result.errors == []
    assert (result.organizations_created, result.pages_created) == (3, 3)
    assert (Organization.objects.count(), Page.objects.count()) == before


@pytest.mark.django_db
def test_operator_updates_own_organization_and_pages_but_creates_no_organization(world):
    own = row(
        org_name=world.org_a.name,
        org_short_name=world.org_a.short_name,
        ogrn=world.org_a.ogrn,
        inn=world.org_a.inn,
        platform="vk",
        platform_id=world.page_a.platform_id,
        title="Обновлено оператором",
        is_primary="",
    )
    new_organization = row(platform_id="club2")

    refused = registry_import(actor=world.operator_a, source=csv_bytes([own, new_organization]))
    assert problems(refused) == [(3, "region")]

    result = registry_import(actor=fresh(world.operator_a), source=csv_bytes([own]))
    assert (result.organizations_unchanged, result.pages_updated) == (1, 1)
    world.page_a.refresh_from_db()
    assert world.page_a.title == "Обновлено оператором"


@pytest.mark.django_db
def test_moving_a_page_needs_the_right_over_its_current_organization(world):
    claim = row(platform="max", platform_id=world.page_b.platform_id, is_primary="")

    result = registry_import(actor=world.analyst_x, source=csv_bytes([claim]))

    assert problems(result) == [(2, "platform_id")]
    world.page_b.refresh_from_db()
    assert world.page_b.organization == world.org_b


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["auditor_x", "auditor_federal", "integration_a", "stranger"])
def test_roles_without_a_manage_grant_may_not_import(world, persona):
    with pytest.raises(PermissionDenied):
        registry_import(actor=getattr(world, persona), source=csv_bytes([row()]))


# The API


def upload(data: bytes, **fields: Any) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("registry.csv", data, content_type="text/csv"), **fields}


@pytest.mark.django_db
def test_api_imports_a_good_file_and_answers_the_counts(api, world):
    response = api.as_user(world.analyst_x).post(
        URL, upload(csv_bytes(with_parents(onboarding_rows(), world))), format="multipart"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": False,
        "rows": 4,
        "organizations_created": 3,
        "organizations_updated": 0,
        "organizations_unchanged": 0,
        "pages_created": 3,
        "pages_updated": 0,
        "pages_unchanged": 0,
    }
    assert Organization.objects.filter(ogrn__in=[SCHOOL_OGRN, PARENT_OGRN, CLINIC_OGRN]).count() == 3


@pytest.mark.django_db
def test_api_dry_run_writes_nothing(api, world):
    response = api.as_user(world.admin).post(URL, upload(csv_bytes([row()]), dry_run="true"), format="multipart")

    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert response.json()["organizations_created"] == 1
    assert not Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_api_bad_file_answers_400_keyed_by_line_and_writes_nothing(api, world):
    rows = [row(), row(ogrn=bad_check_digit(CLINIC_OGRN), platform_id="club2", is_primary="0")]

    response = api.as_user(world.analyst_x).post(URL, upload(csv_bytes(rows)), format="multipart")

    body = assert_error(response, 400, fields=("line 3",))
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["line 3"]
    assert body["fields"]["line 3"] == ["ogrn: Invalid OGRN: 13 or 15 digits with a correct check digit."]
    assert not Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_api_file_over_the_limit_answers_413(api, world, settings):
    settings.IMPORT_MAX_BYTES = 100

    response = api.as_user(world.analyst_x).post(URL, upload(csv_bytes([row()])), format="multipart")

    assert assert_error(response, 413)["code"] == "too_large"


@pytest.mark.django_db
def test_api_without_a_file_answers_400(api, world):
    assert_error(api.as_user(world.analyst_x).post(URL, {}, format="multipart"), 400, fields=("file",))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["auditor_x", "auditor_federal", "integration_a"])
def test_api_auditors_and_integrations_get_403(api, world, persona):
    response = api.as_user(getattr(world, persona)).post(URL, upload(csv_bytes([row()])), format="multipart")

    assert_error(response, 403)
    assert not Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_api_anonymous_user_gets_401(api, world):
    assert_error(api.post(URL, upload(csv_bytes([row()])), format="multipart"), 401)


@pytest.mark.django_db
def test_operator_of_another_organization_cannot_touch_an_organization_outside_scope(api, world):
    takeover = row(
        org_name="Чужая школа", ogrn=world.org_a.ogrn, inn=world.org_a.inn, platform_id="club2", is_primary=""
    )
    new_in_kaliningrad = row(ogrn=make_ogrn(5_000_020), region="RU-KGD", platform_id="club3")

    response = api.as_user(world.operator_b).post(
        URL, upload(csv_bytes([takeover, new_in_kaliningrad])), format="multipart"
    )

    body = assert_error(response, 400, fields=("line 2", "line 3"))
    assert body["fields"]["line 2"] == ["You may not manage this organization."]
    assert body["fields"]["line 3"] == ["region: You may not create organizations in this region."]
    world.org_a.refresh_from_db()
    assert world.org_a.name == "Школа №1 (Москва)"
    assert not Page.objects.filter(platform_id__in=["club2", "club3"]).exists()


def onboarding_file(size: int, world) -> bytes:
    """`size` rows: a new department, new schools under it with a page each, and org A's page renamed."""
    seed = 6_000_000 + size * 1000
    department = make_ogrn(seed)
    rows = [organization_only(org_name=f"Департамент {size}", ogrn=department)]
    rows += [
        row(
            org_name=f"Школа {size}-{number}",
            ogrn=make_ogrn(seed + number),
            inn="",
            parent_ogrn=department,
            platform_id=f"club-{size}-{number}",
            url="",
        )
        for number in range(1, size - 1)
    ]
    rows.append(
        row(
            org_name=world.org_a.name,
            org_short_name=world.org_a.short_name,
            ogrn=world.org_a.ogrn,
            inn=world.org_a.inn,
            platform_id=world.page_a.platform_id,
            title=f"Страница школы ({size})",
            is_primary="",
        )
    )
    assert len(rows) == size
    return csv_bytes(rows)


@pytest.mark.django_db
def test_query_count_is_the_same_for_10_and_200_rows(
    api, world, django_assert_max_num_queries, real_sqlite_parameter_limit
):
    client = api.as_user(world.analyst_x)
    client.get("/api/v1/me/")  # the user's memberships are cached from here on, for both sizes alike
    counts = []
    for size in (10, 200):
        # Token, scope, regions, 2 organisation and 2 page lookups, a savepoint and 4 bulk writes.
        with django_assert_max_num_queries(13) as captured:
            response = client.post(URL, upload(onboarding_file(size, world)), format="multipart")
        assert response.status_code == 200, response.content
        assert response.json()["pages_created"] == size - 2
        counts.append(len(captured))

    assert counts[0] == counts[1], counts


# The management command


@pytest.mark.django_db
def test_command_imports_with_a_progress_bar_and_prints_the_summary(world, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes(with_parents(onboarding_rows(), world), delimiter=";"))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_registry", str(path), "--as", "analyst_x", stdout=out, stderr=err)

    assert "Checking rows" in err.getvalue() and "Writing" in err.getvalue() and "(100%)" in err.getvalue()
    assert "3 created, 0 updated, 0 unchanged" in out.getvalue()
    assert Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_command_dry_run_writes_nothing(world, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes([row()]))
    out = io.StringIO()

    call_command("import_registry", str(path), "--as", "admin", "--dry-run", stdout=out, stderr=io.StringIO())

    assert "Dry run" in out.getvalue()
    assert not Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_command_lists_every_bad_row_and_fails(world, tmp_path):
    path = tmp_path / "registry.csv"
    rows = [row(), row(ogrn="123", platform_id="club2"), row(region="RU-XXX", platform_id="club3")]
    path.write_bytes(csv_bytes(rows))
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_registry", str(path), "--as", "analyst_x", stdout=io.StringIO(), stderr=err)

    assert "line 3, ogrn: Invalid OGRN" in err.getvalue()
    assert "line 4, region: Unknown region code" in err.getvalue()
    assert not Organization.objects.filter(ogrn=SCHOOL_OGRN).exists()


@pytest.mark.django_db
def test_command_refuses_an_auditor_and_an_unknown_user(world, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes([row()]))

    with pytest.raises(CommandError, match="may not import"):
        call_command("import_registry", str(path), "--as", "auditor_x", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_registry", str(path), "--as", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
