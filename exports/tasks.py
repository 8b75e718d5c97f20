"""Celery tasks: each takes ids and calls one service (style.md)."""

from celery import shared_task

from exports import services


# acks_late with reject_on_worker_lost (the project's defaults, said here too): a worker killed half-way leaves
# the message unacknowledged, the broker gives it to another worker, and the job is built again from the start.
@shared_task(name="exports.tasks.run_export_job", acks_late=True, reject_on_worker_lost=True, time_limit=6 * 60 * 60)
def run_export_job(job_id: int) -> dict:
    job = services.export_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "rows": job.rows}


@shared_task(name="exports.tasks.expire_files", acks_late=True)
def expire_files() -> int:
    """Periodic (config.settings.base CELERY_BEAT_SCHEDULE): delete export files past their time."""
    return services.export_files_expire()
