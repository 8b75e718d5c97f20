"""Leaner writes of rollup rows (bench.rollups): the histogram columns lose their CHECK (>= 0), the rollup's keys
lose their foreign-key constraints (they are copied from appeals, whose own keys hold them) and their single-column
indexes (the (key, day) indexes lead with them), and the index on the day alone goes (the unique key leads with
the day)."""

import django.db.models.deletion
from django.db import migrations, models

from ratings import histogram

_TABLES = ("ratings_rollup", "ratings_rollupregionday", "ratings_rollupregionmonth")


def _drop_histogram_checks(apps, schema_editor) -> None:
    """One statement per table instead of one ALTER per column (540 per table)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite keeps the checks until its table is next remade: harmless
    with connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c' "
                "AND conname LIKE %s",
                [table, f"{table}_h\\_%\\_check"],
            )
            names = [name for (name,) in cursor.fetchall()]
            if names:
                drops = ", ".join(f'DROP CONSTRAINT "{name}"' for name in names)
                cursor.execute(f'ALTER TABLE "{table}" {drops}')


class HistogramColumnsToIntegers(migrations.operations.base.Operation):
    """The histogram columns of the three tables become plain integers: the state in one step per model (1,620
    AlterFields took a minute and a half to render), the database by `_drop_histogram_checks`."""

    reversible = True

    def state_forwards(self, app_label, state) -> None:
        for model in ("rollup", "rollupregionday", "rollupregionmonth"):
            fields = state.models[app_label, model].fields
            for metric in histogram.METRICS:
                for bucket in range(histogram.BUCKETS):
                    fields[histogram.column(metric, bucket)] = models.IntegerField(blank=True, null=True)
            state.reload_model(app_label, model, delay=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        _drop_histogram_checks(None, schema_editor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        pass  # the checks are not put back: they never failed, and nothing reads them

    def describe(self) -> str:
        return "Histogram columns of the rollups as plain integers"


def _key(name: str, to: str, verbose_name: str, *, null: bool) -> migrations.AlterField:
    return migrations.AlterField(
        model_name="rollup",
        name=name,
        field=models.ForeignKey(
            blank=null,
            null=null,
            db_constraint=False,
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to=to,
            verbose_name=verbose_name,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0013_list_indexes_for_state_and_overdue"),
        ("publics", "0002_load_regions"),
        ("ratings", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="rollup", name="rollup_day_idx"),
        _key("region", "publics.region", "region", null=False),
        _key("organization", "publics.organization", "organization", null=False),
        _key("page", "publics.page", "page", null=True),
        _key("category", "appeals.category", "category", null=True),
        HistogramColumnsToIntegers(),
    ]
