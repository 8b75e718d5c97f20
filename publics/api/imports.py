"""Registry import over the API: a thin view over publics.imports.registry_import."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import ErrorSerializer
from publics.imports import RowError, registry_import, registry_import_allowed


class RegistryImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV in UTF-8 (BOM allowed), comma or semicolon delimited, with a header row. "
        "Columns: org_name, org_short_name, org_kind, region, ogrn, inn, parent_ogrn, org_timezone, "
        "office_opens_at, office_closes_at, platform, platform_id, url, title, verified, category, "
        "is_primary, is_active."
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Check the file and count the changes, but write nothing."
    )


class RegistryImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(help_text="True when the file was only checked.")
    rows = serializers.IntegerField(help_text="Data rows read (blank lines not counted).")
    organizations_created = serializers.IntegerField()
    organizations_updated = serializers.IntegerField()
    organizations_unchanged = serializers.IntegerField()
    pages_created = serializers.IntegerField()
    pages_updated = serializers.IntegerField()
    pages_unchanged = serializers.IntegerField()


class FileTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class CanImportRegistry(BasePermission):
    """Checked before the body is read, so auditors and integrations get 403 whatever they send."""

    message = gettext_lazy("Your role may not import the registry.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return registry_import_allowed(request.user)


def errors_by_line(errors: list[RowError]) -> dict[str, list[str]]:
    """The import's problems as the `fields` of the error shape: "line 7" → ["ogrn: Invalid OGRN…"]."""
    fields: dict[str, list[str]] = {}
    for problem in errors:
        key = "file" if problem["line"] is None else f"line {problem['line']}"
        message = f"{problem['field']}: {problem['message']}" if problem["field"] else problem["message"]
        fields.setdefault(key, []).append(message)
    return fields


class RegistryImportView(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [IsAuthenticated, CanImportRegistry]
    extra_error_codes = ["409", "413"]

    @extend_schema(
        tags=["imports"],
        summary="Import organizations and pages from CSV",
        description=(
            "One row is one page with its organisation; a row with empty page columns creates or updates the "
            "organisation only. Organisations are matched by `ogrn`, else by name and region; pages by "
            "`platform` and `platform_id`. Empty cells keep stored values. Every row is checked first: a file "
            "with any bad row writes nothing and answers 400, with `fields` keyed `line <n>` (the header is "
            "line 1) and messages `<column>: <message>`; problems with the file as a whole are under `file`. "
            "Importing the same file again changes nothing. Analysts import in their regions, operators update "
            "their own organisations and pages, administrators everything."
        ),
        request={"multipart/form-data": RegistryImportSerializer},
        responses={
            200: RegistryImportResultSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad rows, keyed `line <n>`; nothing was written."),
            403: OpenApiResponse(ErrorSerializer, description="Auditors and integrations may not import."),
            409: OpenApiResponse(ErrorSerializer, description="The registry changed during the import; retry."),
            413: OpenApiResponse(ErrorSerializer, description="The file exceeds the import size limit."),
        },
    )
    def post(self, request: Request) -> Response:
        payload = RegistryImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        # Refuse by the declared size before reading the upload into memory.
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise FileTooLarge(
                _("The file is larger than the limit of %(limit)s bytes.") % {"limit": settings.IMPORT_MAX_BYTES}
            )
        result = registry_import(actor=request.user, source=upload.read(), dry_run=payload.validated_data["dry_run"])
        if result.errors:
            raise DjangoValidationError(errors_by_line(result.errors))
        return Response(RegistryImportResultSerializer(result).data)
