"""The SLA state and the running deadline stored on the appeal, indexed for the queues (issue 8), and the Russian
full-text search of the text on PostgreSQL.

- `sla_state` and `due_at` are filled in one UPDATE from the deadlines, as `appeals.sla.sla_facts` computes them
  (the same expressions, `appeals.sla.sla_from_deadlines`), before their indexes are built.
- `search_vector` is `to_tsvector('russian', text)`, kept by a trigger on insert and on a change of the text, and
  GIN-indexed; it replaces the trigram index of the text (0011), which stays for the author's name. PostgreSQL
  only: on SQLite the column stays NULL and the search falls back to a substring match.
"""

import django.contrib.postgres.search
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from appeals.sla import sla_from_deadlines

TRIGGER = """
CREATE OR REPLACE FUNCTION appeal_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := to_tsvector('pg_catalog.russian', coalesce(NEW.text, ''));
    RETURN NEW;
END
$$;
CREATE TRIGGER appeal_search_vector_update BEFORE INSERT OR UPDATE OF text, search_vector ON appeals_appeal
    FOR EACH ROW EXECUTE FUNCTION appeal_search_vector();
"""


def fill_sla_state(apps, schema_editor) -> None:
    apps.get_model("appeals", "Appeal").objects.update(**sla_from_deadlines(timezone.now()))


def _on_postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_search(apps, schema_editor) -> None:
    if not _on_postgres(schema_editor):
        return
    schema_editor.execute(TRIGGER)
    schema_editor.execute("UPDATE appeals_appeal SET search_vector = NULL")  # the trigger computes each one
    schema_editor.execute("CREATE INDEX appeal_search_vector_idx ON appeals_appeal USING gin (search_vector)")
    schema_editor.execute("DROP INDEX IF EXISTS appeal_text_trgm_idx")


def drop_search(apps, schema_editor) -> None:
    if not _on_postgres(schema_editor):
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS appeal_text_trgm_idx ON appeals_appeal USING gin ((UPPER(text::text)) gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS appeal_search_vector_idx")
    schema_editor.execute("DROP TRIGGER IF EXISTS appeal_search_vector_update ON appeals_appeal")
    schema_editor.execute("DROP FUNCTION IF EXISTS appeal_search_vector()")


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0011_search_trigram_indexes"),
        ("publics", "0002_load_regions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="appeal",
            name="appeal_org_status_due_idx",
        ),
        migrations.RemoveIndex(
            model_name="appeal",
            name="appeal_region_status_due_idx",
        ),
        migrations.AddField(
            model_name="appeal",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="due at"),
        ),
        migrations.AddField(
            model_name="appeal",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True, verbose_name="search vector"
            ),
        ),
        migrations.AddField(
            model_name="appeal",
            name="sla_state",
            field=models.CharField(
                choices=[
                    ("on_track", "on track"),
                    ("at_risk", "at risk"),
                    ("breached", "breached"),
                    ("met", "met"),
                    ("paused", "paused"),
                ],
                default="on_track",
                max_length=16,
                verbose_name="SLA state",
            ),
        ),
        migrations.RunPython(fill_sla_state, migrations.RunPython.noop),
        migrations.RunPython(create_search, drop_search),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["due_at", "id"], name="appeal_due_idx"),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["region", "due_at", "id"], name="appeal_region_due_idx"),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["organization", "due_at", "id"], name="appeal_org_due_idx"),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                models.F("sla_state"),
                models.OrderBy(models.F("received_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="appeal_state_received_idx",
            ),
        ),
    ]
