"""Indexes for two lists that bench.lists found reading the table at 5 million appeals (issue 8).

- `appeal_state_received_idx` gains the running deadline (INCLUDE due_at): `?sla_state=breached` is the stored
  state or a passed deadline, and its capped count read 128,000 rows to find 10,000; now the index alone.
- `appeal_running_received_idx` and `appeal_running_due_idx`, partial on running appeals: `?is_overdue=true` in the
  default order sorted all overdue appeals (the planner expects few: a passed deadline and a running status look
  independent to it); now read newest first off the index, and counted by deadline.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0012_stored_sla_state_and_search"),
        ("publics", "0002_load_regions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="appeal",
            name="appeal_state_received_idx",
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                fields=["sla_state", "-received_at", "-id"], include=("due_at",), name="appeal_state_received_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("status__in", ("new", "in_progress", "answered"))),
                fields=["-received_at", "-id"],
                include=("due_at",),
                name="appeal_running_received_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("status__in", ("new", "in_progress", "answered"))),
                fields=["due_at"],
                name="appeal_running_due_idx",
            ),
        ),
    ]
