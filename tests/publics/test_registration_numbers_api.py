"""OGRN and INN through the API and the CSV import: only ASCII digits, a 400 (or a row error) otherwise."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from publics.models import Organization
from tests.assertions import assert_error
from tests.factories import make_inn, make_ogrn
from tests.publics.test_registry_import import csv_bytes, row

pytestmark = pytest.mark.django_db
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def payload(**overrides) -> dict:
    return {"name": "Гимназия №9", "kind": "school", "region": "RU-MOW", **overrides}


@pytest.mark.parametrize(
    "ogrn",
    [make_ogrn(901)[:-1] + "²", make_ogrn(901).translate(FULLWIDTH), make_ogrn(901).translate(ARABIC_INDIC)],
    ids=["superscript", "fullwidth", "arabic_indic"],
)
def test_an_ogrn_in_other_than_ascii_digits_answers_400_with_a_russian_field_error(api, world, ogrn):
    response = api.as_user(world.admin).post("/api/v1/organizations/", payload(ogrn=ogrn), format="json")
    body = assert_error(response, 400, fields=("ogrn",))
    assert body["fields"]["ogrn"] == ["Некорректный ОГРН: требуется 13 или 15 цифр с верной контрольной цифрой."]
    assert not Organization.objects.filter(name="Гимназия №9").exists()


def test_an_existing_ogrn_in_fullwidth_digits_does_not_bypass_uniqueness(api, world):
    response = api.as_user(world.admin).post(
        "/api/v1/organizations/", payload(ogrn=world.org_a.ogrn.translate(FULLWIDTH)), format="json"
    )
    assert_error(response, 400, fields=("ogrn",))


@pytest.mark.parametrize(
    "inn",
    [make_inn(902)[:-1] + "²", make_inn(902).translate(FULLWIDTH), make_inn(902).translate(ARABIC_INDIC)],
    ids=["superscript", "fullwidth", "arabic_indic"],
)
def test_an_inn_in_other_than_ascii_digits_answers_400_with_a_russian_field_error(api, world, inn):
    response = api.as_user(world.admin).post("/api/v1/organizations/", payload(inn=inn), format="json")
    body = assert_error(response, 400, fields=("inn",))
    assert body["fields"]["inn"] == ["Некорректный ИНН: требуется 10 или 12 цифр с верными контрольными цифрами."]


def test_an_ogrn_or_inn_with_a_superscript_digit_in_an_import_file_is_a_row_error(api, world):
    rows = [row(ogrn=make_ogrn(903)[:-1] + "²", inn=make_inn(903).translate(FULLWIDTH))]
    upload = {"file": SimpleUploadedFile("registry.csv", csv_bytes(rows), content_type="text/csv")}

    response = api.as_user(world.analyst_x).post("/api/v1/imports/registry/", upload, format="multipart")

    body = assert_error(response, 400, fields=("line 2",))
    assert [message.split(":")[0] for message in body["fields"]["line 2"]] == ["ogrn", "inn"]


def test_a_nul_byte_in_an_import_file_answers_400_with_the_line_it_is_on(api, world):
    data = csv_bytes([row(), row(platform_id="club2", is_primary="0")]).replace(b"club2", b"club\x002")
    upload = {"file": SimpleUploadedFile("registry.csv", data, content_type="text/csv")}

    response = api.as_user(world.analyst_x).post("/api/v1/imports/registry/", upload, format="multipart")

    body = assert_error(response, 400, fields=("line 3",))
    assert list(body["fields"]) == ["line 3"]
    assert "NUL" in body["fields"]["line 3"][0]
    assert not Organization.objects.filter(ogrn=row()["ogrn"]).exists()


def test_a_nul_byte_in_an_import_file_fails_the_command_with_the_line_it_is_on(world, tmp_path):
    import io

    from django.core.management import CommandError, call_command

    path = tmp_path / "registry.csv"
    path.write_bytes(csv_bytes([row(title="Школа\x00 №5")]))
    err = io.StringIO()

    with pytest.raises(CommandError, match="ничего не записано"):
        call_command("import_registry", str(path), "--as", "analyst_x", stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("строка 2: ") and "NUL" in err.getvalue()
