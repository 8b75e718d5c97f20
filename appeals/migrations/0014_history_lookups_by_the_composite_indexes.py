"""Drop the single-column indexes on the history's appeal: the (appeal, created_at) indexes serve the same look-ups,
and every event and reply written paid for both.

Only the indexes go (DROP INDEX, quick); Django's own AlterField would also drop and re-add the foreign keys,
which re-validates every row of the history under a lock.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "appeals_appealevent": "appeals_appealevent_appeal_id_17365b2a",
    "appeals_reply": "appeals_reply_appeal_id_5c52a7da",
}


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0013_list_indexes_for_state_and_overdue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="appealevent",
                    name="appeal",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="appeals.appeal",
                        verbose_name="appeal",
                    ),
                ),
                migrations.AlterField(
                    model_name="reply",
                    name="appeal",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="replies",
                        to="appeals.appeal",
                        verbose_name="appeal",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX {index} ON {table} (appeal_id)",
                )
                for table, index in INDEXES.items()
            ],
        ),
    ]
