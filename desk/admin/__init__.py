"""The operators' desk in the admin: the queue and the appeal page (appeals), response templates, and the
site's own pages (desk.dashboard)."""

from desk.admin import appeals, templates, users  # noqa: F401  (registers the ModelAdmins)
