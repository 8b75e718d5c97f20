"""How the desk shows an appeal's moments, deadline and SLA state: in the organisation's local time with its UTC
offset, a short coloured badge, the time left or overdue. Pure formatting: no queries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from html import escape

from django.db import models
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from appeals import sla
from appeals.models import Appeal, SlaState

# Short labels for the queue's badge (the model's labels are the long ones: «срок соблюдён»).
BADGE_LABELS = {
    SlaState.ON_TRACK: gettext_lazy("on time"),
    SlaState.AT_RISK: pgettext_lazy("SLA badge", "at risk"),  # the state's own label is the long one
    SlaState.BREACHED: gettext_lazy("overdue"),
    SlaState.MET: gettext_lazy("done"),
    SlaState.PAUSED: gettext_lazy("paused"),
}
# CSS classes in desk/static/desk/desk.css (colours readable in the light and the dark theme).
BADGE_CLASSES = {
    SlaState.ON_TRACK: "desk-badge desk-badge--on-track",
    SlaState.AT_RISK: "desk-badge desk-badge--at-risk",
    SlaState.BREACHED: "desk-badge desk-badge--breached",
    SlaState.MET: "desk-badge desk-badge--met",
    SlaState.PAUSED: "desk-badge desk-badge--paused",
}


def span(classes: str, text: object, title: object | None = None) -> SafeString:
    """`<span class="…" title="…">text</span>`, every part escaped. The queue writes ten of these per row: built
    with `html.escape` (what Django's `escape` does, without the lazy-string checks of `format_html`, which cost
    most of a 50-row page's formatting)."""
    shown = f' title="{escape(str(title))}"' if title is not None else ""
    return mark_safe(f'<span class="{escape(classes)}"{shown}>{escape(str(text))}</span>')  # noqa: S308 - escaped


def label(choices: type[models.TextChoices], value: str) -> str:
    """A stored choice's label, as `get_FOO_display` gives it (the value itself when it is not a choice), without
    building the field's choice map for every cell."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def zone_of(appeal: Appeal) -> zoneinfo.ZoneInfo:
    """The organisation's zone. Needs `appeal.organization.region` loaded (the selectors join it)."""
    return zoneinfo.ZoneInfo(appeal.organization.effective_timezone)


def utc_offset(moment: dt.datetime) -> str:
    """«UTC+3», «UTC+12», «UTC+5:30»."""
    offset = moment.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo, *, short: bool = False) -> str:
    """«22.11.2026 19:54 UTC+3» (short: «22.11 19:54 UTC+3», for the queue's narrow column)."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    shown = local.strftime("%d.%m %H:%M" if short else "%d.%m.%Y %H:%M")
    return f"{shown} {utc_offset(local)}"


def duration(delta: dt.timedelta) -> str:
    """«2 д 3 ч», «3 ч 20 мин», «15 мин»: the two largest units, no plural forms needed."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def sla_badge(appeal: Appeal, *, now: dt.datetime) -> SafeString:
    """The badge of the appeal's state as of `now` (the stored state advanced: `sla.current_facts`), with the
    time left or overdue and the deadline in the organisation's local time."""
    facts = sla.current_facts(appeal, now=now)
    state = SlaState(facts.sla_state)
    badge = span(BADGE_CLASSES[state], BADGE_LABELS[state])
    if facts.due_at is None or state in (SlaState.MET, SlaState.PAUSED):
        return badge
    if facts.due_at < now:
        left = _("overdue by %(time)s") % {"time": duration(now - facts.due_at)}
    else:
        left = _("%(time)s left") % {"time": duration(facts.due_at - now)}
    deadline = local_time(facts.due_at, zone_of(appeal), short=True)
    due = _("due %(moment)s") % {"moment": deadline}
    return mark_safe(f"{badge} {span('desk-due', left)}{span('desk-deadline', due)}")  # noqa: S308 - escaped spans
