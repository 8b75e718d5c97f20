"""On PostgreSQL the database itself refuses UPDATE and DELETE of the export log (append-only), as for the appeal
history (appeals/migrations/0003)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION exports_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the export log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exports_log_append_only
    BEFORE UPDATE OR DELETE ON exports_exportlogentry
    FOR EACH ROW EXECUTE FUNCTION exports_log_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS exports_log_append_only ON exports_exportlogentry;
DROP FUNCTION IF EXISTS exports_log_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
