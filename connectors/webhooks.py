"""The platforms' webhooks: `/api/v1/webhooks/{vk|max|telegram}/{page_id}/` (domain.md section 8).

A plain Django view, not DRF: no user authentication (the page's secret is the credential), and the path a
platform's delivery takes must stay short: size check, one SELECT of the page, the platform's checks, one INSERT
of the raw event, the processing task sent after commit, and the platform's answer. Processing happens later in
Celery (connectors.services.event_process).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from connectors import services
from connectors.platforms import PLATFORMS
from connectors.platforms.base import Answer, BadPayload, Forbidden, secret_matches
from core.errors import error_body
from core.filters import MAX_ID
from publics.models import Page

PAGE_FIELDS = ("id", "platform", "platform_id", "webhook_secret", "confirmation_code")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status_code=status, code=code, message=message), status=status)


def _not_found() -> JsonResponse:
    return _error(404, "not_found", _("Unknown page."))


def _forbidden() -> JsonResponse:
    # Which check failed is not said: a caller guessing secrets learns nothing.
    return _error(403, "permission_denied", _("The request is not signed with this page's secret."))


def _plain(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@csrf_exempt
def webhook(request: HttpRequest, platform: str, page_id: int) -> HttpResponse:
    if request.method != "POST":
        response = _error(405, "method_not_allowed", _("Webhooks accept POST only."))
        response["Allow"] = "POST"
        return response
    limit = settings.WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "parse_error", _("The Content-Length header is not a number."))
    if declared > limit:
        # Refused before a byte of the body is read.
        return _error(413, "too_large", _("The request body is larger than %(limit)s bytes.") % {"limit": limit})
    module = PLATFORMS.get(platform)
    if module is None or page_id > MAX_ID:
        return _not_found()
    page = Page.objects.only(*PAGE_FIELDS).filter(pk=page_id, platform=platform, is_active=True).first()
    if page is None:
        return _not_found()
    header = getattr(module, "SECRET_HEADER", None)
    if header and not secret_matches(request.headers.get(header), page.webhook_secret):
        return _forbidden()
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, "too_large", _("The request body is larger than %(limit)s bytes.") % {"limit": limit})
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "parse_error", _("The request body is not JSON."))
    if not isinstance(payload, dict):
        return _error(400, "parse_error", _("The request body is not a JSON object."))
    try:
        verdict = module.accept(page, request.headers, payload)
    except Forbidden:
        return _forbidden()
    except BadPayload as exc:
        return _error(400, "invalid", _("The event is not in the platform's format: %(detail)s") % {"detail": exc})
    if isinstance(verdict, Answer):
        return _plain(verdict.text)
    event_id = services.event_store(page=page, accepted=verdict, payload=payload, now=timezone.now())
    if event_id is not None:
        services.event_queue_on_commit(event_id)
    return _plain(verdict.answer)
