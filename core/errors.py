"""The one JSON error shape of the API, the DRF exception handler that produces it, and the error pages.

Every error response, whatever raised it, has this body::

    {"status": 400, "code": "invalid", "message": "Проверьте введённые данные.", "fields": {"name": ["..."]}}

`fields` maps input field names (dotted for nested input, `non_field_errors` for the whole object) to lists of
messages; it is `{}` when the error is not about input fields.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """An error of the application's own rules, raised by services and known to no transport.

    Services run under the API, the admin, Celery and management commands alike: they raise these (and
    Django's `ValidationError` for bad input), and each edge translates them once: `exception_handler` below
    for the API, `message_for` for the admin's messages, a task's log for Celery.
    """

    default_code = "error"
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: Any = None, code: str | None = None) -> None:
        self.message = str(message) if message else self.default_message()
        self.code = code or self.default_code
        super().__init__(self.message)

    def default_message(self) -> str:
        return _("The request cannot be carried out.")


class Conflict(ApplicationError):
    """A state transition lost a race or is not allowed from the current state (HTTP 409)."""

    default_code = "conflict"
    status_code = status.HTTP_409_CONFLICT

    def default_message(self) -> str:
        return _("The object was changed by another request. Reload and try again.")


class Refused(ApplicationError, DjangoPermissionDenied):
    """The actor may not do this to this object (HTTP 403). A `PermissionDenied` too, for Django's own callers."""

    default_code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN

    def default_message(self) -> str:
        return _("You do not have permission to perform this action.")


def message_for(exc: Exception) -> str:
    """One readable sentence for an error a service raised: what the admin and the desk show a person."""
    if isinstance(exc, ApplicationError):
        return exc.message
    if isinstance(exc, DjangoValidationError):
        return " ".join(str(message) for message in exc.messages)
    if isinstance(exc, DjangoPermissionDenied):
        return str(exc) or _("You do not have permission to perform this action.")
    return str(exc)


def error_body(*, status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {"status": status_code, "code": code, "message": message, "fields": fields or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


class _ApplicationAPIError(exceptions.APIException):
    def __init__(self, error: ApplicationError) -> None:
        self.status_code = error.status_code
        super().__init__(error.message, error.code)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        exc = _ApplicationAPIError(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (IntegrityError, DataError)):
        # A safety net: services should turn these into their own errors. The database's text names tables,
        # constraints and other rows' values, so it goes to the log, never to the client.
        logger.error("Database error escaped %s", context.get("view").__class__.__name__, exc_info=exc)
        if isinstance(exc, IntegrityError):
            exc = _ApplicationAPIError(
                Conflict(_("The data conflicts with data already stored. Reload and try again."))
            )
        else:
            exc = exceptions.ValidationError(
                {"non_field_errors": [_("A value does not fit what the database can store.")]}
            )
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # Django names whole-object errors "__all__"; the API's one shape calls them non_field_errors.
            detail = {
                ("non_field_errors" if key == "__all__" else key): value for key, value in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers it (config.urls)

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("Check the data you sent.")
        if list(fields) == ["non_field_errors"] and len(fields["non_field_errors"]) == 1:
            message = fields["non_field_errors"][0]
        code = "invalid"
    else:
        fields = {}
        detail = exc.detail
        message = str(detail if not isinstance(detail, (list, dict)) else _flatten(detail))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    response.data = error_body(status_code=response.status_code, code=str(code), message=message, fields=fields)
    return response


# Machine clients get the one JSON shape; a person in a browser gets a Russian page. These prefixes serve only
# machines (the REST API, its schema, open data, GeoReport), so they answer JSON whatever the Accept header says.
_JSON_PREFIXES = ("/api/", "/open-data/", "/open311/", "/healthz")


def wants_json(request: HttpRequest) -> bool:
    """True for API paths and for clients that prefer JSON to HTML (browsers ask for text/html first)."""
    if request.path.startswith(_JSON_PREFIXES):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _error(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            error_body(status_code=status_code, code=code, message=message),
            status=status_code,
            json_dumps_params={"ensure_ascii": False},
        )
    titles = {
        400: _("Bad request"),
        403: _("Access denied"),
        404: _("Page not found"),
        413: _("Request too large"),
        500: _("Server error"),
    }
    context = {"status": status_code, "title": titles.get(status_code, _("Error")), "message": message}
    try:
        return render(request, "core/error.html", context, status=status_code)
    except Exception:  # a broken template or context processor must not turn an error page into a crash loop
        logger.exception("The error page could not be rendered")
        return HttpResponse(f"{status_code} {message}", status=status_code, content_type="text/plain; charset=utf-8")


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return _error(request, 404, "not_found", _("Not found."))
    return _error(request, 404, "not_found", _("There is no such page. Check the address or go to the start page."))


def server_error_view(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", _("Internal server error. The incident has been logged."))


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django's request limits (DATA_UPLOAD_MAX_*) raise these while the body is read, in a DRF view or not.
    if isinstance(exception, RequestDataTooBig):
        return _error(
            request,
            413,
            "too_large",
            _("The request body is larger than the limit of %(limit)s bytes.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return _error(request, 400, "too_many_fields", _("The request has too many fields or files."))
    return _error(request, 400, "bad_request", _("Bad request."))


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have permission to perform this action."))


def csrf_failure_view(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: an expired form (a stale tab, cookies cleared) explained, not Django's English page."""
    return _error(
        request,
        403,
        "csrf_failed",
        _("The form has expired or cookies are blocked. Go back, reload the page and submit it again."),
    )
