"""The transactional outbox: work queued for Celery, recorded in the database with the change that caused it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class QueuedTask(models.Model):
    """A Celery task to send: written in the same transaction as the change that needs it (core.outbox).

    Sent to the broker on commit; while the broker is down the row waits, and `outbox_drain` (beat, and every
    worker's start) sends it when the broker is back. Tasks are idempotent, so a row sent twice (a crash between
    sending and marking) costs a repeat, never a loss.
    """

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        indexes = [
            # The drain: unsent rows, oldest first. Partial, so it stays as small as the backlog.
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="queued_task_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
