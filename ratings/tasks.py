"""Celery tasks of the ratings: each takes ids and JSON values and calls one service (style.md)."""

from celery import shared_task

from ratings import services


@shared_task(name="ratings.tasks.reroll_appeals", acks_late=True)
def reroll_appeals(appeal_ids: list[int]) -> int:
    """Queued on commit of every change of an appeal (through the outbox): its page and day are rolled again."""
    return services.rollups_reroll_appeals(appeal_ids=appeal_ids)


@shared_task(name="ratings.tasks.rollups_catch_up", acks_late=True)
def rollups_catch_up() -> int:
    """Periodic (config.settings.base CELERY_BEAT_SCHEDULE): whatever the on-commit path missed."""
    return services.rollups_catch_up()


@shared_task(name="ratings.tasks.store_default_ratings", acks_late=True)
def store_default_ratings() -> list[int]:
    """Daily (beat): the default rating snapshots."""
    return [snapshot.pk for snapshot in services.rating_snapshots_store_defaults()]
