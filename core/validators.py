"""Check digits of Russian state registration numbers (OGRN, OGRNIP, INN)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def ogrn_is_valid(value: str) -> bool:
    """OGRN (13 digits): the last digit is (first 12 mod 11) mod 10; OGRNIP (15): (first 14 mod 13) mod 10."""
    if not value.isdigit() or len(value) not in (13, 15):
        return False
    body, check = int(value[:-1]), int(value[-1])
    modulus = 11 if len(value) == 13 else 13
    return body % modulus % 10 == check


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    """INN of a legal entity (10 digits, one check digit) or of a person (12 digits, two check digits)."""
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    digits = [int(c) for c in value]
    if len(value) == 10:
        return _inn_digit(digits, _INN10) == digits[9]
    return _inn_digit(digits, _INN12_A) == digits[10] and _inn_digit(digits, _INN12_B) == digits[11]


def validate_ogrn(value: str) -> None:
    if not ogrn_is_valid(value):
        raise ValidationError(_("Invalid OGRN: 13 or 15 digits with a correct check digit."), code="invalid_ogrn")


def validate_inn(value: str) -> None:
    if not inn_is_valid(value):
        raise ValidationError(_("Invalid INN: 10 or 12 digits with correct check digits."), code="invalid_inn")
