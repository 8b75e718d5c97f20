"""Celery tasks: each takes ids and JSON values and calls one service (style.md)."""

from celery import shared_task

from appeals import services


@shared_task(name="appeals.tasks.sla_sweep", acks_late=True)
def sla_sweep() -> dict:
    """Periodic (config.settings.base CELERY_BEAT_SCHEDULE): warnings and breaches that came due."""
    result = services.sla_sweep()
    return {"checked": result.checked, "warnings": result.warnings, "breaches": result.breaches}


@shared_task(
    name="appeals.tasks.notify_sla_events",
    acks_late=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def notify_sla_events(event_ids: list[int]) -> int:
    return services.sla_notify(event_ids=event_ids)


@shared_task(name="appeals.tasks.recompute_deadlines", acks_late=True)
def recompute_deadlines(region_id: int | None = None, policy_lineage: int | None = None) -> int:
    return services.appeals_recompute_deadlines(region_id=region_id, policy_lineage=policy_lineage)
