"""Registry API: thin views over publics.selectors (reads) and publics.services (writes)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import scope_for
from publics import selectors, services
from publics.api.filters import OrganizationFilter, PageFilter, RegionFilter
from publics.api.serializers import (
    AudienceBulkResultSerializer,
    AudienceBulkSerializer,
    AudienceQuerySerializer,
    AudienceSnapshotSerializer,
    MeSerializer,
    OrganizationInputSerializer,
    OrganizationSerializer,
    PageInputSerializer,
    PageSerializer,
    RegionSerializer,
    parse_audience_rows,
)


@extend_schema_view(
    list=extend_schema(tags=["regions"], summary="List regions", description="The 89 federal subjects."),
    retrieve=extend_schema(tags=["regions"], summary="Get a region by its code"),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z-]{2,8}"
    filterset_class = RegionFilter
    ordering_fields = ["code", "name", "population"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.regions_all()


class _WriteThroughServices:
    """Create and update call a service with validated input, then answer with the output serializer."""

    input_serializer_class: type
    output_serializer_class: type
    create_service: staticmethod
    update_service: staticmethod
    instance_argument: str  # the update service's keyword for the object

    def create(self, request: Request) -> Response:
        data = self._validated(request, partial=False)
        instance = type(self).create_service(actor=request.user, data=data)
        return Response(self.output_serializer_class(instance).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, partial: bool = False, **kwargs) -> Response:
        instance = self.get_object()
        data = self._validated(request, partial=partial, instance=instance)
        instance = type(self).update_service(actor=request.user, data=data, **{self.instance_argument: instance})
        return Response(self.output_serializer_class(instance).data)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, partial=True)

    def _validated(self, request: Request, *, partial: bool, instance=None) -> dict:
        serializer = self.input_serializer_class(
            instance, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema_view(
    list=extend_schema(tags=["organizations"], summary="List organizations in your scope"),
    retrieve=extend_schema(tags=["organizations"], summary="Get an organization"),
    create=extend_schema(
        tags=["organizations"],
        summary="Create an organization",
        description="Analysts create in their regions, administrators anywhere.",
        request=OrganizationInputSerializer,
        responses={201: OrganizationSerializer},
    ),
    update=extend_schema(
        tags=["organizations"],
        summary="Replace an organization",
        request=OrganizationInputSerializer,
        responses={200: OrganizationSerializer},
    ),
    partial_update=extend_schema(
        tags=["organizations"],
        summary="Update an organization",
        request=OrganizationInputSerializer,
        responses={200: OrganizationSerializer},
    ),
)
class OrganizationViewSet(
    _WriteThroughServices,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrganizationSerializer
    output_serializer_class = OrganizationSerializer
    input_serializer_class = OrganizationInputSerializer
    create_service = staticmethod(services.organization_create)
    update_service = staticmethod(services.organization_update)
    instance_argument = "organization"
    filterset_class = OrganizationFilter
    ordering_fields = ["id", "name", "kind", "created_at", "updated_at"]
    ordering = ["name", "id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.organizations_visible_to(self.request.user)


@extend_schema_view(
    list=extend_schema(tags=["pages"], summary="List pages in your scope"),
    retrieve=extend_schema(tags=["pages"], summary="Get a page"),
    create=extend_schema(
        tags=["pages"],
        summary="Register a page",
        description="Secrets (`webhook_secret`, `confirmation_code`, `access_token`) are write-only.",
        request=PageInputSerializer,
        responses={201: PageSerializer},
    ),
    update=extend_schema(
        tags=["pages"], summary="Replace a page", request=PageInputSerializer, responses={200: PageSerializer}
    ),
    partial_update=extend_schema(
        tags=["pages"], summary="Update a page", request=PageInputSerializer, responses={200: PageSerializer}
    ),
)
class PageViewSet(
    _WriteThroughServices,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PageSerializer
    output_serializer_class = PageSerializer
    input_serializer_class = PageInputSerializer
    create_service = staticmethod(services.page_create)
    update_service = staticmethod(services.page_update)
    instance_argument = "page"
    filterset_class = PageFilter
    ordering_fields = ["id", "title", "platform", "created_at", "updated_at"]
    ordering = ["id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.pages_visible_to(self.request.user)

    @extend_schema(
        tags=["audience"],
        summary="Audience series of a page",
        description="Snapshots by date, oldest first.",
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="First date (inclusive)."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last date (inclusive)."),
        ],
        responses={200: AudienceSnapshotSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None, url_path="audience")
    def audience(self, request: Request, pk: str | None = None) -> Response:
        page = self.get_object()
        dates = AudienceQuerySerializer(data=request.query_params)
        dates.is_valid(raise_exception=True)
        series = selectors.audience_series(
            page=page, date_from=dates.validated_data.get("date_from"), date_to=dates.validated_data.get("date_to")
        )
        result = self.paginate_queryset(series)
        return self.get_paginated_response(AudienceSnapshotSerializer(result, many=True).data)

    def filter_queryset(self, queryset):
        if self.action == "audience":
            return queryset  # the list filters apply to pages, not to a page's series
        return super().filter_queryset(queryset)


class AudienceBulkView(APIView):
    @extend_schema(
        tags=["audience"],
        summary="Upsert audience snapshots in bulk",
        description=(
            "Insert or update up to 1,000 snapshots by (page, date) in one transaction. Any bad row writes "
            "nothing; errors are keyed `snapshots.<index>.<field>`."
        ),
        request=AudienceBulkSerializer,
        responses={200: AudienceBulkResultSerializer},
    )
    def post(self, request: Request) -> Response:
        rows, errors = parse_audience_rows(request.data)
        if errors:
            raise DjangoValidationError(errors)
        written = services.audience_snapshots_upsert(actor=request.user, rows=rows)
        return Response({"upserted": written})


class MeView(APIView):
    @extend_schema(tags=["me"], summary="Your roles and scopes", responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        user = request.user
        scope = scope_for(user)
        payload = {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "full_name": user.get_full_name(),
            "roles": sorted(scope.roles),
            "sees_everything": scope.read.everything,
            "can_view_personal_data": scope.personal_data,
            "memberships": selectors.memberships_of(user),
        }
        return Response(MeSerializer(payload).data)
