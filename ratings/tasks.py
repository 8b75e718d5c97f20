"""Celery tasks of the ratings: each takes ids and JSON values and calls one service (style.md)."""

from celery import shared_task

from core import outbox
from ratings import services


@shared_task(name=services.REROLL_TASK, acks_late=True)
def reroll_appeals(ids: list[int] | None = None, appeal_ids: list[int] | None = None) -> int:
    """Queued on commit of changes of appeals, coalesced: the pages and days of every appeal changed since the
    last run are rolled again. `ids` come when Redis is not used; `appeal_ids` from messages queued before."""
    pending = outbox.take_coalesced(services.REROLL_TASK)
    return services.rollups_reroll_appeals(appeal_ids=sorted({*(ids or ()), *(appeal_ids or ()), *pending}))


@shared_task(name=services.REROLL_ORGANIZATIONS_TASK, acks_late=True)
def reroll_organizations(organization_ids: list[int]) -> int:
    """Queued on commit of a change of organisations' zone, region, kind or office hours (their appeals have
    followed a region change in the same transaction): every rollup row of those appeals is computed again."""
    return services.rollups_reroll_organizations(organization_ids=organization_ids)


@shared_task(name=services.REROLL_PAGES_TASK, acks_late=True)
def reroll_pages(page_ids: list[int]) -> int:
    """Queued on commit of a change of pages' platform: every rollup row of their appeals is computed again."""
    return services.rollups_reroll_pages(page_ids=page_ids)


@shared_task(name=services.CATCH_UP_TASK, acks_late=True)
def rollups_catch_up() -> int:
    """Periodic (config.settings.base CELERY_BEAT_SCHEDULE): whatever the on-commit path missed."""
    return services.rollups_catch_up()


@shared_task(name="ratings.tasks.store_default_ratings", acks_late=True)
def store_default_ratings() -> list[int]:
    """Daily (beat): the default rating snapshots."""
    return [snapshot.pk for snapshot in services.rating_snapshots_store_defaults()]
