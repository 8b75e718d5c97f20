"""`ratings_count(*)`: COUNT(*) as an integer, the type of the rollup tables' count and histogram columns
(PostgreSQL only). COUNT(*) is a bigint, and a rollup row holds 548 counts: a rebuild converted each of them on
its way into the row (ratings.services._typed_row, bench.rollups). The same C increment COUNT uses, on an int4
state; no rollup row counts two billion appeals.

Aggregates are executable by every role, as functions are by default: nothing to grant."""

from django.db import migrations


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE AGGREGATE ratings_count(*) (SFUNC = int4inc, STYPE = integer, INITCOND = '0', PARALLEL = SAFE)"
        )


def _drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP AGGREGATE IF EXISTS ratings_count(*)")


class Migration(migrations.Migration):
    dependencies = [("ratings", "0006_rollup_swap_names_indexes")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
