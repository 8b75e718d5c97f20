"""Trigram indexes for the appeal search on PostgreSQL (issue 8): `icontains` on the text and the author's name.

Django's `icontains` is `UPPER(col::text) LIKE UPPER('%…%')`, which no B-tree serves; a GIN index of trigrams on
the same `UPPER(col::text)` expression does, so the search of `appeals.selectors.appeals_search` stops scanning
the table. PostgreSQL only (SQLite keeps its plain scan); pg_trgm is a trusted extension, so the database's owner
(who runs migrations) may create it.
"""

from django.db import migrations


def _on_postgres(apps, schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create(apps, schema_editor) -> None:
    if not _on_postgres(apps, schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("text", "author_name"):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS appeal_{column}_trgm_idx ON appeals_appeal "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
    # The search's third branch (an external id, exactly): with it indexed too, the OR is one bitmap scan.
    schema_editor.execute("CREATE INDEX IF NOT EXISTS appeal_external_id_idx ON appeals_appeal (external_id)")


def drop(apps, schema_editor) -> None:
    if not _on_postgres(apps, schema_editor):
        return
    for column in ("text", "author_name"):
        schema_editor.execute(f"DROP INDEX IF EXISTS appeal_{column}_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS appeal_external_id_idx")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0010_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
