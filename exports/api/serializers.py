"""Serializers of the exports API: jobs and the export log (the filters are exports.filters')."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appeals.models import AppealKind
from exports.filters import OverdueFiltersSerializer
from exports.models import ExportFormat, ExportJob, ExportKind, ExportLogEntry, JobStatus


class ExportJobCreateSerializer(OverdueFiltersSerializer):
    """The job's body: `kind` names the export (`overdue`), so the appeals' kind filter is `appeal_kind` here."""

    kind = serializers.ChoiceField(choices=ExportKind.choices, help_text="The list to build: `overdue`.")
    appeal_kind = serializers.ChoiceField(
        choices=AppealKind.choices, required=False, help_text="The `kind` filter of the overdue list."
    )
    format = serializers.ChoiceField(choices=ExportFormat.choices)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["export_kind"] = attrs.pop("kind")
        if "appeal_kind" in attrs:
            attrs["kind"] = attrs.pop("appeal_kind")
        return attrs


class ExportJobSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "format",
            "filters",
            "as_of",
            "status",
            "progress",
            "rows",
            "sha256",
            "download_url",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != JobStatus.DONE:
            return None
        url = reverse("export-job-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ExportLogEntrySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ExportLogEntry
        fields = ["id", "user", "kind", "format", "filters", "as_of", "rows", "sha256", "channel", "job", "created_at"]
        read_only_fields = fields
