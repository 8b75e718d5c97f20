"""Export jobs and the append-only export log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportKind(models.TextChoices):
    OVERDUE = "overdue", _("overdue appeals")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    EXPIRED = "expired", _("expired")


class ExportJob(models.Model):
    """A list built in the background: its file lives in Django's storage until `expires_at`."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="export_jobs", verbose_name=_("owner")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ExportKind.choices, default=ExportKind.OVERDUE)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    as_of = models.DateTimeField(_("as of"))
    language = models.CharField(_("language"), max_length=8, default="ru")
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress, %"), default=0)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    file = models.FileField(_("file"), upload_to="exports/", max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The expiry task: finished jobs whose file has outlived its time.
            models.Index(fields=["expires_at"], condition=models.Q(status="done"), name="export_job_expiry_idx"),
            # A user's own jobs, newest first.
            models.Index(fields=["owner", "-created_at"], name="export_job_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}.{self.format} ({self.status})"


class ExportLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The export log is append-only: entries are never updated.")

    def delete(self):
        raise TypeError("The export log is append-only: entries are never deleted.")


class ExportLogEntry(models.Model):
    """Who exported what list, as of when, how many rows, and the file's SHA-256: the proof of what a list said.

    Append-only in the model and, on PostgreSQL, by a trigger (migration 0002), like the appeal history.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="export_log", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ExportKind.choices)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    as_of = models.DateTimeField(_("as of"))
    rows = models.PositiveIntegerField(_("rows"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, help_text=_("api, job or admin"))
    job = models.ForeignKey(
        ExportJob, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("export job")
    )
    created_at = models.DateTimeField(_("time"), db_index=True)

    objects = ExportLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("export log entry")
        verbose_name_plural = _("export log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_log_user_idx")]
        constraints = [
            # A job is logged once, however often its task ran (a retry after a crash writes no second entry).
            models.UniqueConstraint(
                fields=["job"], condition=models.Q(job__isnull=False), name="export_log_one_per_job"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}.{self.format} {self.as_of:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("The export log is append-only: entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The export log is append-only: entries are never deleted.")
