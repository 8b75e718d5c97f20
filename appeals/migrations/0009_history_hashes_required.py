"""Every event and reply is chained from now on; on PostgreSQL replies become append-only like events (0003)."""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER appeals_reply_append_only
    BEFORE UPDATE OR DELETE ON appeals_reply
    FOR EACH ROW EXECUTE FUNCTION appeals_event_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS appeals_reply_append_only ON appeals_reply;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0008_fill_history_hashes")]

    operations = [
        migrations.AddConstraint(
            model_name="appealevent",
            constraint=models.CheckConstraint(condition=models.Q(("hash", ""), _negated=True), name="appeal_event_hashed"),
        ),
        migrations.AddConstraint(
            model_name="reply",
            constraint=models.CheckConstraint(condition=models.Q(("hash", ""), _negated=True), name="reply_hashed"),
        ),
        migrations.RunPython(create, drop),
    ]
