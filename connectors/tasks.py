"""Celery tasks of the connectors: each calls one service (style.md).

Routing (config.settings.base CELERY_TASK_ROUTES): event processing on the `webhooks` queue, deliveries on
`deliveries`, so a flood of incoming events never delays the replies going out, and neither waits behind the
default queue's bulk jobs.
"""

from celery import shared_task

from connectors import services


@shared_task(name="connectors.tasks.process_event", acks_late=True, ignore_result=True)
def process_event(event_id: int) -> str | None:
    """Process one stored platform event. A transient failure leaves it for the periodic pick-up
    (`pick_up_events`), which brings it back with the others still waiting."""
    try:
        return services.event_process(event_id=event_id)
    except services.Deferred:
        return None


@shared_task(name="connectors.tasks.deliver_reply", acks_late=True, ignore_result=True, bind=True)
def deliver_reply(self, delivery_id: int) -> None:
    """One attempt at a delivery; a retry is queued with its countdown (the backoff, or the platform's
    retry_after). Should the broker refuse it, the periodic pick-up sends the delivery when it is due."""
    retry_in = services.delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None and not self.request.is_eager:
        services.send_task_later(services.DELIVER_TASK, countdown=retry_in, delivery_id=delivery_id)


@shared_task(name="connectors.tasks.pick_up_events", acks_late=True, ignore_result=True)
def pick_up_events() -> int:
    """Periodic: events a broker outage or a failed attempt left unprocessed."""
    return services.events_pick_up()


@shared_task(name="connectors.tasks.pick_up_deliveries", acks_late=True, ignore_result=True)
def pick_up_deliveries() -> int:
    """Periodic: deliveries due again whose task was lost (broker outage, a worker lost mid-call)."""
    return services.deliveries_pick_up()


@shared_task(name="connectors.tasks.poll_max_comments", acks_late=True, ignore_result=True)
def poll_max_comments() -> int:
    """Periodic: comments under MAX channel posts, for pages that enable it (MAX pushes no event for them)."""
    return services.max_comments_poll()
