"""`manage.py seed_demo`: the demo registry, appeals and logins of `make run`. Safe to run again: it changes nothing.

It lives in the desk, the app on top of every other, so it can seed each app while publics imports no appeals.
"""

from typing import Any

from django.core.management.base import BaseCommand

from appeals.demo import seed_appeals
from desk.demo import seed_templates
from publics.demo import format_logins, seed_registry
from ratings.demo import seed_ratings


class Command(BaseCommand):
    help = "Create or refresh the demo organisations, pages, audience history, appeals and a login for every role."

    def handle(self, *args: Any, **options: Any) -> None:
        registry = seed_registry(stdout=self.stdout)
        seed_ratings(registry, stdout=self.stdout)
        seed_appeals(registry, stdout=self.stdout)
        seed_templates(registry, stdout=self.stdout)
        self.stdout.write(format_logins(registry.logins))
