"""E-mail to operators: which of their organisation's appeals crossed an SLA line."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import translation
from django.utils.translation import gettext as _

from appeals.models import AppealEvent, EventAction
from publics.models import Membership, Role


def sla_notify(*, event_ids: list[int]) -> int:
    """Email each organisation's operators one message listing its appeals that crossed a line; returns emails sent."""
    events = (
        AppealEvent.objects.filter(pk__in=event_ids, action__in=[EventAction.SLA_WARNING, EventAction.SLA_BREACHED])
        .select_related("appeal__organization")
        .order_by("appeal__organization_id", "appeal_id", "id")
    )
    by_organization: dict[int, list[AppealEvent]] = {}
    for event in events:
        by_organization.setdefault(event.appeal.organization_id, []).append(event)
    recipients: dict[int, list[str]] = {}
    for organization_id, email in (
        Membership.objects.filter(role=Role.OPERATOR, organization_id__in=by_organization, user__is_active=True)
        .exclude(user__email="")
        .values_list("organization_id", "user__email")
    ):
        recipients.setdefault(organization_id, []).append(email)

    messages = []
    with translation.override("ru"):
        for organization_id, organization_events in by_organization.items():
            if organization_id not in recipients:
                continue
            organization = organization_events[0].appeal.organization
            lines = []
            for event in organization_events:
                if event.action == EventAction.SLA_BREACHED:
                    missed = (
                        _("Appeal #%(id)s: the first-response deadline has passed unanswered.")
                        if event.data.get("target") == "first_response"
                        else _("Appeal #%(id)s: the resolution deadline has passed.")
                    )
                    lines.append(missed % {"id": event.appeal_id})
                else:
                    lines.append(
                        _("Appeal #%(id)s: %(percent)s%% of the allowed time has passed.")
                        % {"id": event.appeal_id, "percent": event.data.get("percent")}
                    )
            subject = _("Otklik: appeals of %(organization)s need attention") % {"organization": organization}
            messages.append((subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients[organization_id]))
    return send_mass_mail(messages, fail_silently=False) if messages else 0
