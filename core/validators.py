"""Check digits of Russian state registration numbers (OGRN, OGRNIP, INN)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# ASCII digits only: str.isdigit() and int() also accept "²" (and then int() fails: a 500), Arabic-Indic and
# fullwidth digits, which would be stored as given and pass a uniqueness check against the ASCII spelling.
_OGRN_FORM = re.compile(r"[0-9]{13}|[0-9]{15}")
_INN_FORM = re.compile(r"[0-9]{10}|[0-9]{12}")

# Weights of the INN check digits: one for a legal entity's 10-digit INN, two for a person's 12-digit one.
INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def ogrn_is_valid(value: str) -> bool:
    """OGRN (13 digits): the last digit is (first 12 mod 11) mod 10; OGRNIP (15): (first 14 mod 13) mod 10."""
    if not _OGRN_FORM.fullmatch(value):
        return False
    body, check = int(value[:-1]), int(value[-1])
    modulus = 11 if len(value) == 13 else 13
    return body % modulus % 10 == check


def inn_check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    """The INN check digit of `digits` (the digits before it) under `weights`: INN10_WEIGHTS for a legal entity,
    INN12_WEIGHTS_FIRST then INN12_WEIGHTS_SECOND for the two check digits of a person's INN."""
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    """INN of a legal entity (10 digits, one check digit) or of a person (12 digits, two check digits)."""
    if not _INN_FORM.fullmatch(value):
        return False
    digits = [int(c) for c in value]
    if len(value) == 10:
        return inn_check_digit(digits, INN10_WEIGHTS) == digits[9]
    return (
        inn_check_digit(digits, INN12_WEIGHTS_FIRST) == digits[10]
        and inn_check_digit(digits, INN12_WEIGHTS_SECOND) == digits[11]
    )


def validate_ogrn(value: str) -> None:
    if not ogrn_is_valid(value):
        raise ValidationError(_("Invalid OGRN: 13 or 15 digits with a correct check digit."), code="invalid_ogrn")


def validate_inn(value: str) -> None:
    if not inn_is_valid(value):
        raise ValidationError(_("Invalid INN: 10 or 12 digits with correct check digits."), code="invalid_inn")
