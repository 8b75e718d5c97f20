"""Writes to appeals, by sub-domain (pretix's `base/services/` is the model):

- `intake`: taking appeals in from pages and integrations;
- `lifecycle`: every transition of domain.md section 6, each checked against `appeals.models.TRANSITIONS`;
- `sweep`: warnings and breaches as the clock crosses its lines;
- `recompute`: deadlines moved after a change of calendar or policy, appeals following their organisation;
- `rules`: SLA policies and calendar overrides;
- `notifications`: the e-mails the sweep sends.

Every service checks the actor's rights itself through `core.access`, and raises `core.errors`' application
errors (`Conflict`, `Refused`) or Django's `ValidationError`, never an HTTP exception; the API edge and the
admin translate them once. The public names are re-exported here: callers write `services.appeal_reply(...)`.
"""

from appeals.services.intake import AppealInput, appeal_create
from appeals.services.lifecycle import (
    appeal_assign,
    appeal_close,
    appeal_convert,
    appeal_extend,
    appeal_mark_duplicate,
    appeal_note,
    appeal_redirect,
    appeal_reject,
    appeal_reopen,
    appeal_reply,
    appeal_resume,
    appeal_take,
    appeal_wait,
)
from appeals.services.notifications import sla_notify
from appeals.services.recompute import appeals_follow_organizations, appeals_recompute_deadlines
from appeals.services.rules import (
    calendar_override_delete,
    calendar_override_save,
    sla_policy_create,
    sla_policy_update,
)
from appeals.services.sweep import SweepResult, sla_sweep

__all__ = [
    "AppealInput",
    "SweepResult",
    "appeal_assign",
    "appeal_close",
    "appeal_convert",
    "appeal_create",
    "appeal_extend",
    "appeal_mark_duplicate",
    "appeal_note",
    "appeal_redirect",
    "appeal_reject",
    "appeal_reopen",
    "appeal_reply",
    "appeal_resume",
    "appeal_take",
    "appeal_wait",
    "appeals_follow_organizations",
    "appeals_recompute_deadlines",
    "calendar_override_delete",
    "calendar_override_save",
    "sla_notify",
    "sla_policy_create",
    "sla_policy_update",
    "sla_sweep",
]
