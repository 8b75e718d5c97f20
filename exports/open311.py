"""A read-only Open311 GeoReport v2 view of appeals (/open311/v2/), so that civic tools speaking Open311 can read
them: services are the top-level categories, requests the appeals of the caller's scope (the same token and the
same selector as the API), with `status` open or closed, the deadline as `expected_datetime` and the
organisation as `agency_responsible`. Authors are never shown; the text is shown only to callers who may see
personal data (a citizen's text often names them). Errors are GeoReport's `[{"code", "description"}]`.
"""

from __future__ import annotations

import zoneinfo

from django.db.models import Q
from django.urls import path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.models import FINAL_STATUSES, Appeal, Category
from appeals.selectors import appeals_visible_to
from core.access import may_see_personal_data
from core.fields import MomentField
from core.filters import MAX_ID

MAX_REQUESTS = 1000  # GeoReport v2's own cap on one answer


class ServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.BooleanField()
    type = serializers.CharField()
    keywords = serializers.CharField()
    group = serializers.CharField()


class ServiceRequestSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])
    status_notes = serializers.CharField(allow_null=True)
    service_name = serializers.CharField(allow_null=True)
    service_code = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    agency_responsible = serializers.CharField()
    service_notice = serializers.CharField()
    requested_datetime = serializers.CharField()
    updated_datetime = serializers.CharField()
    expected_datetime = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.CharField(allow_null=True)


class RequestsQuerySerializer(serializers.Serializer):
    service_request_id = serializers.RegexField(
        r"^\d{1,18}(,\d{1,18})*$", required=False, help_text="Comma-separated ids."
    )
    service_code = serializers.SlugField(required=False)
    start_date = MomentField(required=False)
    end_date = MomentField(required=False)
    status = serializers.ChoiceField(choices=["open", "closed"], required=False)


# String keys, as drf-spectacular's own: the project's AutoSchema adds the JSON error shape to codes not given.
# A raw schema: drf-spectacular unwraps a list serializer given for an error code.
_ERROR_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
_ERRORS = {
    code: OpenApiResponse(response=_ERROR_LIST, description="GeoReport v2 errors.")
    for code in ("400", "401", "403", "404", "406")
}


class Open311View(APIView):
    renderer_classes = [JSONRenderer]

    def finalize_response(self, request: Request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400 and isinstance(response.data, dict):
            response.data = [{"code": response.status_code, "description": str(response.data.get("message", ""))}]
        return super().finalize_response(request, response, *args, **kwargs)


def _moment(value, zone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(zone)).isoformat(timespec="seconds")


def _request_row(appeal: Appeal, *, show_text: bool) -> dict:
    category = appeal.category
    service = category.parent if category is not None and category.parent_id else category
    zone = appeal.organization.effective_timezone
    closed = appeal.status in FINAL_STATUSES
    expected = appeal.due_at or appeal.resolution_due_at
    return {
        "service_request_id": str(appeal.pk),
        "status": "closed" if closed else "open",
        "status_notes": None,
        "service_name": service.name if service else None,
        "service_code": service.code if service else None,
        "description": appeal.text if show_text else None,
        "agency_responsible": appeal.organization.name,
        "service_notice": "",
        "requested_datetime": _moment(appeal.received_at, zone),
        "updated_datetime": _moment(appeal.updated_at, zone),
        "expected_datetime": _moment(expected, zone) if expected else None,
        "address": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _requests(request: Request):
    return (
        appeals_visible_to(request.user)
        .select_related("category__parent", "organization__region")
        .defer("text" if not may_see_personal_data(request.user) else "search_vector")
    )


@extend_schema(
    tags=["open311"],
    summary="Open311: services (the top-level categories)",
    responses={200: ServiceSerializer(many=True), **{k: v for k, v in _ERRORS.items() if k in ("401", "403", "406")}},
)
class ServicesView(Open311View):
    def get(self, request: Request) -> Response:
        rows = [
            {
                "service_code": category.code,
                "service_name": category.name,
                "description": category.name,
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": "",
            }
            for category in Category.objects.filter(parent__isnull=True, is_active=True).order_by("code")
        ]
        return Response(rows)


@extend_schema(
    tags=["open311"],
    summary="Open311: service requests (appeals of the caller's scope)",
    description=f"Newest first, at most {MAX_REQUESTS}. Dates are ISO 8601 with offset.",
    parameters=[RequestsQuerySerializer],
    responses={200: ServiceRequestSerializer(many=True), **{k: v for k, v in _ERRORS.items() if k != "404"}},
)
class RequestsView(Open311View):
    def get(self, request: Request) -> Response:
        query = RequestsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        appeals = _requests(request)
        if "service_request_id" in data:
            ids = [int(value) for value in data["service_request_id"].split(",") if int(value) <= MAX_ID]
            appeals = appeals.filter(pk__in=ids)
        if "service_code" in data:
            appeals = appeals.filter(
                Q(category__code=data["service_code"]) | Q(category__parent__code=data["service_code"])
            )
        if "start_date" in data:
            appeals = appeals.filter(received_at__gte=data["start_date"])
        if "end_date" in data:
            appeals = appeals.filter(received_at__lte=data["end_date"])
        if data.get("status") == "open":
            appeals = appeals.exclude(status__in=FINAL_STATUSES)
        elif data.get("status") == "closed":
            appeals = appeals.filter(status__in=FINAL_STATUSES)
        show_text = may_see_personal_data(request.user)
        rows = [
            _request_row(appeal, show_text=show_text)
            for appeal in appeals.order_by("-received_at", "-id")[:MAX_REQUESTS]
        ]
        return Response(rows)


@extend_schema(
    tags=["open311"],
    summary="Open311: one service request",
    responses={200: ServiceRequestSerializer(many=True), **_ERRORS},
)
class RequestDetailView(Open311View):
    def get(self, request: Request, pk: str) -> Response:
        # Any id is routed here, so that a malformed one is GeoReport's 404 too, not the API's.
        valid = pk.isascii() and pk.isdigit() and 0 < int(pk) <= MAX_ID
        appeal = _requests(request).filter(pk=int(pk)).first() if valid else None
        if appeal is None:
            raise NotFound(_("No such request."))
        return Response([_request_row(appeal, show_text=may_see_personal_data(request.user))])


urlpatterns = [
    path("services.json", ServicesView.as_view(), name="open311-services"),
    path("requests.json", RequestsView.as_view(), name="open311-requests"),
    re_path(r"^requests/(?P<pk>[^/]+)\.json$", RequestDetailView.as_view(), name="open311-request"),
]
