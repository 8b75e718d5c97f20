"""On PostgreSQL the database itself refuses UPDATE and DELETE of appeal history (append-only)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION appeals_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'appeal history is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER appeals_event_append_only
    BEFORE UPDATE OR DELETE ON appeals_appealevent
    FOR EACH ROW EXECUTE FUNCTION appeals_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS appeals_event_append_only ON appeals_appealevent;
DROP FUNCTION IF EXISTS appeals_event_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0002_reference_data")]

    operations = [migrations.RunPython(create, drop)]
