"""django-unfold's own phrases, which it ships without a Russian catalogue, marked here so that `make messages`
puts them into the project's catalogue (locale/ru), which translates them for the whole admin. Never imported:
gettext finds the translations by the phrase, as unfold's templates and code ask for it.

The list is unfold's `{% trans %}` and `_()` phrases that Django's own Russian catalogue does not translate
(tests/desk/test_unfold_messages.py holds it complete against the installed unfold).
"""

from django.utils.translation import gettext_noop as _

UNFOLD_PHRASES = [
    _("By %(filter_title)s"),
    _("%(class_name)s %(instance)s"),
    _("Add row"),
    _("After you've created a user, you’ll be able to edit more user options."),
    _("All applications"),
    _("Apply Filters"),
    _("Cancel"),
    _("Click to cancel"),
    _("Click to download"),
    _("Dark"),
    _("Dataset not found. No action performed."),
    _("Date"),
    _("Date from"),
    _("Date to"),
    _("Expand row"),
    _("False"),
    _("From"),
    _("General"),
    _("Go back"),
    _("Light"),
    _("Loading more results..."),
    _("More actions"),
    _("Next"),
    _("No data"),
    _("No recent searches"),
    _("No results found"),
    _("No results matching your query"),
    _("Previous"),
    _("Recent searches"),
    _("Record picture"),
    _("Reset filters"),
    _("Run"),
    _("Select action"),
    _("Select action to run"),
    _("Select all rows"),
    _("Select currency"),
    _("Select format"),
    _("Select record"),
    _("Select value"),
    _("System"),
    _("This item will be deleted."),
    _("This page yielded into no results. Create a new item or reset your filters."),
    _("To"),
    _("Toggle password visibility"),
    _("True"),
    _("Type to search"),
    _("Value"),
    _("You can not create nested object without parent"),
    _("You have been successfully logged out from the administration"),
]
