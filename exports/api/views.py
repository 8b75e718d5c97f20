"""Exports API: the overdue list streamed, background jobs and their files, the export log. Thin views over
exports.filters (input), exports.selectors (reads) and exports.services (the files and the log)."""

from __future__ import annotations

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import MAX_ID
from core.pagination import Pagination
from exports import selectors, services
from exports.api.serializers import ExportJobCreateSerializer, ExportJobSerializer, ExportLogEntrySerializer
from exports.filters import ExportQuerySerializer
from exports.models import ExportFormat, JobStatus

_FILE_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(
        response=OpenApiTypes.BINARY, description="`format=csv`: UTF-8 with a byte-order mark, RFC 4180 quoting."
    ),
    (200, services.CONTENT_TYPES[ExportFormat.XLSX]): OpenApiResponse(
        response=OpenApiTypes.BINARY, description="`format=xlsx`: an Excel workbook, typed cells."
    ),
}


class _FileRenderer(BaseRenderer):
    """Lets DRF's `format` negotiation accept the file formats; the views stream the bytes themselves."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - errors are JSON
        return JSONRenderer().render(data)


class CsvFileRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XlsxFileRenderer(_FileRenderer):
    media_type = services.CONTENT_TYPES[ExportFormat.XLSX]
    format = "xlsx"


class _FileView(APIView):
    renderer_classes = [JSONRenderer, CsvFileRenderer, XlsxFileRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False):
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404:
            raise ValidationError({"format": [_("Unknown format: use csv or xlsx.")]}) from None

    def finalize_response(self, request: Request, response, *args, **kwargs):
        # Errors are the one JSON error shape, whatever the requested file format.
        if isinstance(response, Response) and isinstance(getattr(request, "accepted_renderer", None), _FileRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@extend_schema(
    tags=["exports"],
    summary="Overdue appeals as of a moment (CSV or XLSX)",
    description=(
        "The appeals of the caller's scope that were overdue at `as_of` (default now), reconstructed from their "
        "receipt, deadlines, pauses, extension, first-response and resolution times and history as they stood "
        "then. Streamed; the same filters and `as_of` give the same bytes. Logged in the export log."
    ),
    parameters=[ExportQuerySerializer],
    responses=_FILE_RESPONSES,
    filters=False,
)
class OverdueExportView(_FileView):
    extra_error_codes = ["400"]

    def get(self, request: Request):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        filters, canonical = query.to_filters()
        chunks = services.overdue_stream(
            user=request.user, filters=filters, filters_json=canonical, fmt=fmt, channel="api"
        )
        response = StreamingHttpResponse(chunks, content_type=services.CONTENT_TYPES[fmt])
        return _attachment(response, services.filename_for(filters, fmt))


class ExportJobCreateView(APIView):
    @extend_schema(
        tags=["exports"],
        summary="Start a background export",
        description="Answers 202 with the job; poll `GET /api/v1/exports/{id}/` for its status and file.",
        request=ExportJobCreateSerializer,
        responses={202: ExportJobSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = ExportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        filters, canonical = serializer.to_filters()
        job = services.export_job_create(
            actor=request.user,
            fmt=serializer.validated_data["format"],
            filters_json=canonical,
            as_of=filters.as_of,
            language=(get_language() or "ru")[:8],
        )
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["exports"], summary="An export job: status, progress, rows, SHA-256, download link")
class ExportJobDetailView(APIView):
    @extend_schema(responses={200: ExportJobSerializer})
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(selectors.export_jobs_visible_to(request.user), pk=min(pk, MAX_ID))
        return Response(ExportJobSerializer(job, context={"request": request}).data)


@extend_schema(
    tags=["exports"],
    summary="The file of a finished export job",
    responses=_FILE_RESPONSES,
)
class ExportJobDownloadView(_FileView):
    extra_error_codes = ["400"]  # an unknown `format`

    def get(self, request: Request, pk: int):
        job = get_object_or_404(
            selectors.export_jobs_visible_to(request.user), pk=min(pk, MAX_ID), status=JobStatus.DONE
        )
        if not job.file.name:
            raise Http404
        response = FileResponse(job.file.open("rb"), content_type=services.CONTENT_TYPES[job.format])
        return _attachment(response, job.file.name.rsplit("/", 1)[-1])


@extend_schema(
    tags=["exports"],
    summary="The export log",
    description="Who exported which list as of when, its row count and SHA-256: your own entries (all for "
    "administrators), newest first.",
)
class ExportLogView(ListAPIView):
    serializer_class = ExportLogEntrySerializer
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.export_log_visible_to(self.request.user)
