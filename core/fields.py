"""Input of moments (a point in time, not a local wall-clock time): ISO 8601 with a UTC offset, or refused.

A moment without an offset would be read in the server's zone (Europe/Moscow), which is a guess: an
integration in Vladivostok sending its local time would be seven hours off, and every deadline with it. The
schema says these inputs carry an offset, so one without it is a 400, in the API body and in the query alike.
"""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

NO_OFFSET = _("Give the moment in ISO 8601 with its UTC offset, e.g. 2026-11-25T10:00:00+03:00.")


class MomentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "invalid", "no_offset" or "overflow"


def parse_moment(value: object) -> dt.datetime:
    """An ISO 8601 string with an offset (or an aware datetime) as an aware datetime in UTC; raises MomentError.

    In UTC because PostgreSQL refuses offsets beyond ±15:59, and 9999-12-31T23:59-12:00 parses but overflows
    when converted: both are a 400 here rather than a database error.
    """
    moment: dt.datetime | None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:  # well formed, but no such date or time (month 13)
            moment = None
        if moment is None:
            raise MomentError("invalid")
    else:
        raise MomentError("invalid")
    assert moment is not None
    if moment.utcoffset() is None:
        raise MomentError("no_offset")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise MomentError("overflow") from None


class MomentField(serializers.DateTimeField):
    """A DRF DateTimeField that refuses a moment without an offset (DRF would read it in the server's zone)."""

    default_error_messages = {"no_offset": NO_OFFSET}

    def to_internal_value(self, value: object) -> dt.datetime:
        try:
            return parse_moment(value)
        except MomentError as exc:
            if exc.code == "invalid":
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]±hh:mm")
            self.fail(exc.code)
        raise AssertionError("unreachable")


class MomentFormField(forms.DateTimeField):
    """The same for a query parameter (django-filter's forms)."""

    default_error_messages = {"no_offset": NO_OFFSET}

    def to_python(self, value: object) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_moment(value)
        except MomentError as exc:
            code = "no_offset" if exc.code == "no_offset" else "invalid"
            raise ValidationError(self.error_messages[code], code=code) from None
