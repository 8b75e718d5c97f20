"""E-mail to operators: which of their organisation's appeals crossed an SLA line.

One message per organisation and sweep, one line per appeal: its number, page, deadline in the organisation's
local time with the offset, what happened, an excerpt and a link to it in the desk. An appeal that crossed
several lines since the last notice (50% and 80%, or a warning and then the deadline) appears once, under the
highest line: the operator needs to know how bad it is now, not the path it took.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appeals.models import Appeal, AppealEvent, EventAction
from publics.models import Membership, Role

EXCERPT_CHARS = 80


@dataclass
class _Crossed:
    """The lines one appeal crossed since the last notice."""

    appeal: Appeal
    breached: set[str] = field(default_factory=set)  # targets whose deadline passed
    warned: dict[str, int] = field(default_factory=dict)  # target -> highest threshold, %

    def severity(self) -> tuple[int, int]:
        """For ordering the lines: breaches first, then the higher threshold."""
        return (len(self.breached), max(self.warned.values(), default=0))

    def deadline(self) -> dt.datetime | None:
        """The deadline the line is about: the breached one, or the one the warning counts towards."""
        if self.breached:
            target = "resolution" if "resolution" in self.breached else "first_response"
        else:
            target = max(self.warned, key=lambda name: self.warned[name])
        return getattr(self.appeal, f"{target}_due_at")

    def what(self) -> str:
        if self.breached == {"first_response", "resolution"}:
            return _("the first-response and resolution deadlines have passed")
        if self.breached == {"first_response"}:
            return _("the first-response deadline has passed unanswered")
        if self.breached:
            return _("the resolution deadline has passed")
        target, percent = max(self.warned.items(), key=lambda item: item[1])
        if target == "first_response":
            return _("%(percent)s%% of the time allowed for the first response has passed") % {"percent": percent}
        return _("%(percent)s%% of the time allowed for the resolution has passed") % {"percent": percent}


def _local(moment: dt.datetime | None, zone: str) -> str:
    """23.11.2026 18:00 UTC+03:00: the organisation's wall clock, with the offset so no one converts by guess."""
    if moment is None:
        return _("no deadline")
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%d.%m.%Y %H:%M} UTC{offset[:3]}:{offset[3:]}"


def desk_url(appeal_id: int) -> str:
    """The appeal's page in the desk, absolute: a mail has no request to build it from (OTKLIK_PUBLIC_URL)."""
    return settings.OTKLIK_PUBLIC_URL + reverse("admin:appeals_appeal_change", args=[appeal_id])


def _line(crossed: _Crossed) -> dict[str, str]:
    appeal = crossed.appeal
    organization = appeal.organization
    return {
        "id": str(appeal.pk),
        "page": str(appeal.page) if appeal.page else _("no page"),
        "due": _local(crossed.deadline(), organization.effective_timezone),
        "what": crossed.what(),
        "excerpt": Truncator(" ".join(appeal.text.split())).chars(EXCERPT_CHARS),
        "url": desk_url(appeal.pk),
    }


def _message(organization, lines: list[dict[str, str]], to: list[str]) -> EmailMultiAlternatives:
    count = len(lines)
    subject = ngettext(
        "Otklik: %(count)d appeal needs attention (%(organization)s)",
        "Otklik: %(count)d appeals need attention (%(organization)s)",
        count,
    ) % {"count": count, "organization": organization}
    intro = ngettext(
        "%(count)d appeal of %(organization)s has crossed an SLA line:",
        "%(count)d appeals of %(organization)s have crossed an SLA line:",
        count,
    ) % {"count": count, "organization": organization}
    body_lines = [_("Appeal #%(id)s, %(page)s, due %(due)s: %(what)s. “%(excerpt)s” %(url)s") % line for line in lines]
    text = "\n".join([intro, "", *body_lines, ""])
    html = render_to_string("appeals/email/sla_notice.html", {"intro": intro, "lines": lines, "subject": subject})
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    return message


def sla_notify(*, event_ids: list[int]) -> int:
    """Email each organisation's operators one message listing its appeals that crossed a line; returns emails sent.

    Two queries whatever the number of appeals: the events with their appeals, pages, organisations and regions,
    and the operators' addresses.
    """
    events = (
        AppealEvent.objects.filter(pk__in=event_ids, action__in=[EventAction.SLA_WARNING, EventAction.SLA_BREACHED])
        .select_related("appeal__organization__region", "appeal__page")
        .defer("appeal__search_vector")
        .order_by("appeal__organization_id", "appeal_id", "id")
    )
    by_organization: dict[int, dict[int, _Crossed]] = {}
    for event in events:
        crossed = by_organization.setdefault(event.appeal.organization_id, {}).setdefault(
            event.appeal_id, _Crossed(event.appeal)
        )
        target = event.data.get("target", "first_response")
        if event.action == EventAction.SLA_BREACHED:
            crossed.breached.add(target)
        else:
            crossed.warned[target] = max(crossed.warned.get(target, 0), int(event.data.get("percent") or 0))
    recipients: dict[int, list[str]] = {}
    for organization_id, email in (
        Membership.objects.filter(role=Role.OPERATOR, organization_id__in=by_organization, user__is_active=True)
        .exclude(user__email="")
        .values_list("organization_id", "user__email")
        .order_by("organization_id", "user__email")
        .distinct()
    ):
        recipients.setdefault(organization_id, []).append(email)

    messages = []
    with translation.override("ru"):
        for organization_id, appeals in by_organization.items():
            if organization_id not in recipients:
                continue
            ordered = sorted(appeals.values(), key=lambda item: (*(-rank for rank in item.severity()), item.appeal.pk))
            organization = ordered[0].appeal.organization
            messages.append(_message(organization, [_line(item) for item in ordered], recipients[organization_id]))
    if not messages:
        return 0
    return get_connection(fail_silently=False).send_messages(messages) or 0
