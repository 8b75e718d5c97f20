"""Appeals API: thin views over appeals.selectors (reads) and appeals.services (writes)."""

import zoneinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from appeals import selectors, services
from appeals.actions import ACTIONS, AppealAction
from appeals.api.filters import AppealFilter, CategoryFilter, NullsLastOrderingFilter, SlaPolicyFilter
from appeals.api.serializers import (
    AppealCreateSerializer,
    AppealEventSerializer,
    AppealSerializer,
    CalendarOverrideSerializer,
    CategorySerializer,
    ReplySerializer,
    SlaPolicySerializer,
)
from appeals.models import Appeal, CalendarOverride
from publics.selectors import pages_visible_to


def _action_schema(summary: str, request: type[Serializer] | None, description: str = ""):
    return extend_schema(
        tags=["appeals"],
        summary=summary,
        description=description,
        request=request,
        responses={200: AppealSerializer},
        filters=False,
    )


def _local(appeal: Appeal) -> dict:
    """Serializer context: times of the appeal's history and replies in its organisation's zone."""
    return {"local_zone": zoneinfo.ZoneInfo(appeal.organization.effective_timezone)}


@extend_schema_view(
    list=extend_schema(tags=["appeals"], summary="List appeals in your scope"),
    retrieve=extend_schema(tags=["appeals"], summary="Get an appeal"),
)
class AppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AppealSerializer
    filterset_class = AppealFilter
    filter_backends = [DjangoFilterBackend, NullsLastOrderingFilter]
    ordering_fields = [
        "due_at",
        "first_response_due_at",
        "resolution_due_at",
        "received_at",
        "priority",
        "status",
        "id",
    ]
    ordering = ["-received_at", "-id"]
    extra_error_codes = ["409"]

    def get_queryset(self):
        return selectors.appeals_visible_to(self.request.user)

    def initial(self, request: Request, *args, **kwargs) -> None:
        # One "now" per request: the SLA state, the overdue flag and the time left agree with each other.
        self._now = request.otklik_now = timezone.now()  # type: ignore[attr-defined]
        super().initial(request, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["user"] = self.request.user  # masking of personal data is decided for this user (core.access)
        context["now"] = getattr(self, "_now", timezone.now())
        return context

    def filter_queryset(self, queryset):
        if self.action not in ("list",):
            return queryset  # actions and sub-lists address one appeal: the list's filters do not apply
        return super().filter_queryset(queryset)

    def _respond(self, appeal_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        appeal = get_object_or_404(self.get_queryset(), pk=appeal_id)
        return Response(self.get_serializer(appeal).data, status=status_code)

    @extend_schema(
        tags=["appeals"],
        summary="Take in an appeal (integrations)",
        description=(
            "Idempotent on (`page`, `external_id`): the same pair again returns the stored appeal with 200, "
            "a new one is created with 201."
        ),
        request=AppealCreateSerializer,
        responses={201: AppealSerializer, 200: AppealSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = AppealCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Unknown and out-of-scope pages answer alike; the service checks the right to push again itself.
        page = next(iter(pages_visible_to(request.user, mode="push").filter(pk=data["page"]).order_by()[:1]), None)
        if page is None:
            raise DjangoValidationError({"page": _("Unknown page or not in your scope.")})
        author = data.get("author") or {}
        appeal, created = services.appeal_create(
            actor=request.user,
            page=page,
            data=services.AppealInput(
                kind=data["kind"],
                channel=data["channel"],
                text=data["text"],
                received_at=data["received_at"],
                external_id=data["external_id"],
                author_platform_id=author.get("platform_user_id", ""),
                author_name=author.get("name", ""),
                category=data.get("category"),
                priority=data["priority"],
            ),
        )
        if not created:
            return self._respond(appeal.pk)
        # The service returns the new appeal with its page, organisation, region and policy: no read-back.
        return Response(self.get_serializer(appeal).data, status=status.HTTP_201_CREATED)

    # One route per entry of appeals.actions.ACTIONS, added below the class.

    @extend_schema(
        tags=["appeals"],
        summary="History of the appeal",
        responses={200: AppealEventSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        events = self.paginate_queryset(selectors.appeal_events(appeal))
        return self.get_paginated_response(AppealEventSerializer(events, many=True, context=_local(appeal)).data)

    @extend_schema(
        tags=["appeals"], summary="Replies and notes", responses={200: ReplySerializer(many=True)}, filters=False
    )
    @action(detail=True, methods=["get"])
    def replies(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        replies = self.paginate_queryset(selectors.appeal_replies(appeal))
        return self.get_paginated_response(ReplySerializer(replies, many=True, context=_local(appeal)).data)


def _action_route(entry: AppealAction):
    """The API route of one registry entry: 404 outside the read scope first, then the input (400), then the
    service (403 without the right to act, 409 where the status does not allow it)."""

    def run(self: AppealViewSet, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        entry.run(actor=request.user, appeal_id=appeal.pk, data=request.data)
        return self._respond(appeal.pk)

    run.__name__ = entry.name
    routed = action(detail=True, methods=["post"], url_path=entry.url_path)(run)
    return _action_schema(entry.summary, entry.input, entry.description)(routed)


for _entry in ACTIONS.values():
    setattr(AppealViewSet, _entry.name, _action_route(_entry))


@extend_schema_view(
    list=extend_schema(tags=["categories"], summary="List categories (two-level topic tree)"),
    retrieve=extend_schema(tags=["categories"], summary="Get a category"),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    ordering_fields = ["name", "id"]
    ordering = ["id"]

    def get_queryset(self):
        return selectors.categories_all()


@extend_schema_view(
    list=extend_schema(tags=["sla-policies"], summary="List current SLA policies"),
    retrieve=extend_schema(tags=["sla-policies"], summary="Get an SLA policy"),
    create=extend_schema(tags=["sla-policies"], summary="Create an SLA policy"),
    update=extend_schema(tags=["sla-policies"], summary="Edit an SLA policy (stores a new version)"),
    partial_update=extend_schema(tags=["sla-policies"], summary="Edit an SLA policy (stores a new version)"),
    destroy=extend_schema(
        tags=["sla-policies"],
        summary="Deactivate an SLA policy",
        description="Stores a new, inactive version: appeals that used it keep it.",
        responses={204: OpenApiResponse(description="Deactivated.")},
    ),
)
class SlaPolicyViewSet(viewsets.ModelViewSet):
    """Read in the read scope (strangers get 404); services check the right to change (403)."""

    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilter
    ordering_fields = ["id", "name", "lineage"]
    ordering = ["lineage"]

    def get_queryset(self):
        return selectors.sla_policies_visible_to(self.request.user)

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("apply_to_open_appeals", None)
        serializer.instance = services.sla_policy_create(actor=self.request.user, data=data)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        apply = data.pop("apply_to_open_appeals", False)
        serializer.instance = services.sla_policy_update(
            actor=self.request.user, policy=serializer.instance, data=data, apply_to_open_appeals=apply
        )

    def perform_destroy(self, instance) -> None:
        services.sla_policy_update(actor=self.request.user, policy=instance, data={"is_active": False})


@extend_schema_view(
    list=extend_schema(tags=["calendar"], summary="List calendar overrides"),
    retrieve=extend_schema(tags=["calendar"], summary="Get a calendar override"),
    create=extend_schema(
        tags=["calendar"], summary="Add a calendar override", description="Open appeals move with it."
    ),
    update=extend_schema(tags=["calendar"], summary="Change a calendar override"),
    partial_update=extend_schema(tags=["calendar"], summary="Change a calendar override"),
    destroy=extend_schema(tags=["calendar"], summary="Remove a calendar override"),
)
class CalendarOverrideViewSet(viewsets.ModelViewSet):
    """Read by every role; services check the right to change (403)."""

    serializer_class = CalendarOverrideSerializer
    filterset_fields = ["date", "kind"]
    ordering_fields = ["date", "id"]
    ordering = ["date"]

    def get_queryset(self):
        return selectors.calendar_overrides_visible_to(self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.instance = services.calendar_override_save(
            actor=self.request.user, override=CalendarOverride(), data=serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.calendar_override_save(
            actor=self.request.user, override=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance) -> None:
        services.calendar_override_delete(actor=self.request.user, override=instance)
