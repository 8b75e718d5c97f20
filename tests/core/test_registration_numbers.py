"""OGRN and INN are ASCII digits only: str.isdigit() also accepts ², Arabic-Indic and fullwidth digits."""

import pytest

from core.validators import INN10_WEIGHTS, inn_check_digit, inn_is_valid, ogrn_is_valid
from tests.factories import make_inn, make_ogrn

OGRN = "1027700101076"  # a valid OGRN
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_valid_ogrn_and_inn_in_ascii_digits_pass():
    assert ogrn_is_valid(OGRN)
    assert inn_is_valid(make_inn(123))


@pytest.mark.parametrize(
    "value",
    [
        OGRN.translate(FULLWIDTH),
        OGRN.translate(ARABIC_INDIC),
        "102770010107²",
        OGRN + "\n",
        " " + OGRN,
    ],
    ids=["fullwidth", "arabic_indic", "superscript", "trailing_newline", "leading_space"],
)
def test_an_ogrn_in_other_than_ascii_digits_is_invalid_and_never_crashes(value):
    assert ogrn_is_valid(value) is False


@pytest.mark.parametrize("translation", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic_indic"])
def test_an_inn_in_other_than_ascii_digits_is_invalid(translation):
    assert inn_is_valid(make_inn(123).translate(translation)) is False


def test_an_inn_with_a_superscript_digit_is_invalid_and_never_crashes():
    assert inn_is_valid(make_inn(123)[:-1] + "²") is False


def test_the_check_digit_helper_is_public_for_generators_of_valid_numbers():
    body = make_inn(42)[:-1]
    assert str(inn_check_digit([int(digit) for digit in body], INN10_WEIGHTS)) == make_inn(42)[-1]
    assert ogrn_is_valid(make_ogrn(42))
