"""Writes of the desk: response templates, saved within the author's scope."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from appeals.services.history import person_of
from core.access import Actor, require_manage
from desk.models import ResponseTemplate


def response_template_save(*, actor: Actor, template: ResponseTemplate) -> ResponseTemplate:
    """Create or change a template: the author must manage its organisation (a federal one: everything), and,
    for a change, the organisation it belonged to before."""
    message = _("You may not manage response templates of this organization.")
    with transaction.atomic():
        if template.pk is not None:
            stored = ResponseTemplate.objects.select_related("organization").filter(pk=template.pk).first()
            if stored is not None:
                require_manage(actor, stored, message)
        require_manage(actor, template, message)
        if template.created_by_id is None:
            template.created_by = person_of(actor)
        template.full_clean()
        template.save()
    return template


def response_template_delete(*, actor: Actor, template: ResponseTemplate) -> None:
    require_manage(actor, template, _("You may not manage response templates of this organization."))
    template.delete()


__all__ = ["response_template_delete", "response_template_save"]
