"""Celery tasks of the shared infrastructure: each calls one function (style.md)."""

from celery import shared_task
from celery.signals import worker_ready

from core.outbox import outbox_drain


@shared_task(name="core.tasks.outbox_drain", acks_late=True)
def drain_outbox() -> int:
    """Periodic (config.settings.base CELERY_BEAT_SCHEDULE): send what a broker outage left in the outbox."""
    return outbox_drain()


@worker_ready.connect(dispatch_uid="core.outbox_drain_on_start")
def drain_outbox_on_start(**kwargs) -> None:
    # A worker coming back after an outage sends the backlog at once instead of waiting for beat.
    drain_outbox.delay()
