"""Platform connectors' records: raw events as received, where each appeal came from, and replies going out."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, Reply
from core.access import ScopeKeys
from publics.models import Page, Platform

# The platforms that call webhooks and take replies (OK has no webhooks: domain.md section 8).
CONNECTED_PLATFORMS = (Platform.VK, Platform.MAX, Platform.TELEGRAM)


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("received, not processed yet")
    PROCESSED = "processed", _("processed")
    IGNORED = "ignored", _("ignored")
    FAILED = "failed", _("failed")


class PlatformEvent(models.Model):
    """One delivery of a platform's webhook (or one comment read by polling), stored before it is acknowledged.

    `event_key` is what the platform repeats when it re-sends the same event (VK's `event_id`, MAX's update type
    and message id, Telegram's `update_id`): unique per page, so a re-sent event is one row.
    """

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    page = models.ForeignKey(Page, models.CASCADE, related_name="platform_events", verbose_name=_("page"))
    event_key = models.CharField(_("event key"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(_("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("processing attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    appeal = models.ForeignKey(
        Appeal, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("appeal")
    )

    class Meta:
        verbose_name = _("platform event")
        verbose_name_plural = _("platform events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "event_key"], name="platform_event_unique_key"),
            models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="platform_event_status_valid"),
        ]
        indexes = [
            # The periodic pick-up: events still waiting, oldest first. Partial: as small as the backlog.
            models.Index(fields=["received_at"], condition=Q(status="received"), name="platform_event_pending_idx"),
            # A page's last received event, and the admin's list of a page's events, newest first.
            models.Index("page", F("received_at").desc(), name="platform_event_page_recv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.event_type} #{self.pk}"

    def scope_keys(self) -> ScopeKeys:
        return ScopeKeys(
            region_id=self.page.organization.region_id, organization_id=self.page.organization_id, page_id=self.page_id
        )


class AppealSource(models.Model):
    """Where an appeal taken from a platform came from, and what a reply to it needs (`target`)."""

    appeal = models.OneToOneField(
        Appeal, models.CASCADE, primary_key=True, related_name="platform_source", verbose_name=_("appeal")
    )
    page = models.ForeignKey(Page, models.CASCADE, related_name="+", verbose_name=_("page"))
    # Who the appeal's conversation is with, as the platform names it ("peer:123" for VK private messages):
    # the community's own answers in that conversation are matched to the appeal through it.
    conversation = models.CharField(_("conversation"), max_length=200, blank=True)
    target = models.JSONField(_("reply target"), default=dict)
    url = models.URLField(_("link to the original"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("appeal source")
        verbose_name_plural = _("appeal sources")
        indexes = [
            # The community's answer in a private conversation: that conversation's latest appeal.
            models.Index(
                "page",
                "conversation",
                F("received_at").desc(),
                name="appeal_source_conversation_idx",
                condition=~Q(conversation=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.url or self.conversation}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class Delivery(models.Model):
    """A public reply on its way to the platform: written in the reply's transaction, sent by a Celery task.

    `idempotency_key` is derived from the reply and stored before the first attempt: the platform (VK's `guid`
    and `random_id`) recognises a retried call as the same answer and does not post it twice.
    """

    reply = models.OneToOneField(Reply, models.PROTECT, related_name="delivery", verbose_name=_("reply"))
    appeal = models.ForeignKey(Appeal, models.PROTECT, related_name="deliveries", verbose_name=_("appeal"))
    page = models.ForeignKey(Page, models.PROTECT, related_name="deliveries", verbose_name=_("page"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    method = models.CharField(_("method"), max_length=64)
    # The call without the access token, which is read from the page at each attempt.
    params = models.JSONField(_("parameters"), default=dict)
    # What the platform's rate limit per conversation counts (a chat, a peer); empty when only the page's counts.
    rate_key = models.CharField(_("rate limit key"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64)
    status = models.CharField(
        _("delivery status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("platform's error"), blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    platform_message_id = models.CharField(_("platform's message id"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
        ]
        indexes = [
            # The periodic pick-up: deliveries due again (pending, or a send whose worker died).
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_due_idx",
            ),
            # The echo of our own answer coming back as a platform event is recognised by its message id.
            models.Index(
                fields=["page", "platform_message_id"], condition=~Q(platform_message_id=""), name="delivery_echo_idx"
            ),
            models.Index(fields=["page", "idempotency_key"], name="delivery_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.method} #{self.pk} ({self.status})"

    def scope_keys(self) -> ScopeKeys:
        return ScopeKeys(
            region_id=self.appeal.region_id, organization_id=self.appeal.organization_id, page_id=self.appeal.page_id
        )


class PageConnector(models.Model):
    """A page's connector settings beyond the registry's secrets: polling of MAX channel comments."""

    page = models.OneToOneField(
        Page, models.CASCADE, primary_key=True, related_name="connector", verbose_name=_("page")
    )
    poll_comments = models.BooleanField(
        _("poll channel comments"),
        default=False,
        help_text=_("MAX pushes no event for comments under channel posts: read them periodically instead."),
    )
    comments_polled_at = models.DateTimeField(_("comments last polled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("page connector")
        verbose_name_plural = _("page connectors")

    def __str__(self) -> str:
        return str(self.page_id)
