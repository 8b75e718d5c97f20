"""The swap names the swapped-in partition's indexes after the partition, as PostgreSQL names those of a partition
it creates (`ratings_rollup_p202603_pkey`, `ratings_rollup_p202603_region_id_day_idx`, ...). Before, they kept the
names they were built with (`ratings_rollup_p202603_build_pkey1`): a live partition's indexes said "build", and the
digit PostgreSQL adds to avoid the old partition's names came and went from one rebuild to the next.

The function is replaced with the same signature, so its owner, its grants and the REVOKE from PUBLIC of 0004 stay.
Written out here in full, as 0004 wrote it plus the renaming at the end: a migration does not change.
"""

import importlib

from django.db import migrations

_SWAP = """
CREATE OR REPLACE FUNCTION ratings_rollup_swap(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    partition text := ratings_rollup_partition_name(month);
    build text := partition || '_build';
    finish date := (month + interval '1 month')::date;
    index_definition text;
    constraint_definition text;
    index_name text;
    new_name text;
BEGIN
    IF to_regclass(quote_ident(build)) IS NULL THEN
        RAISE EXCEPTION 'no table % to swap in', build;
    END IF;
    -- The parent's indexes: a constraint's through ALTER TABLE (ATTACH adopts a primary key's index only when it
    -- backs the same constraint), the others with the parent's definition on the new table.
    FOR index_definition, constraint_definition IN
        SELECT pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid) FROM pg_index i
        LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
        WHERE i.indrelid = 'ratings_rollup'::regclass ORDER BY i.indexrelid
    LOOP
        IF constraint_definition IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ADD %s', build, constraint_definition);
        ELSE
            EXECUTE regexp_replace(
                index_definition, '^CREATE (UNIQUE )?INDEX \\S+ ON ONLY \\S+ ', 'CREATE \\1INDEX ON ' || quote_ident(build) || ' '
            );
        END IF;
    END LOOP;
    -- The range check, validated by one scan of the new rows, spares ATTACH its own scan.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (day >= %L AND day < %L)', build, build || '_range', month, finish);
    EXECUTE format('DROP TABLE IF EXISTS %I', partition);
    EXECUTE format('ALTER TABLE ratings_rollup ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', build, month, finish);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', build, build || '_range');
    EXECUTE format('ALTER TABLE %I RENAME TO %I', build, partition);
    -- The old partition's indexes went with it, so their names are free: each index drops the "_build" of its
    -- name and the digit added to avoid them (renaming a constraint's index renames the constraint).
    FOR index_name IN
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = to_regclass(quote_ident(partition)) AND left(c.relname, length(build) + 1) = build || '_'
    LOOP
        new_name := partition || '_' || regexp_replace(substr(index_name, length(build) + 2), '[0-9]+$', '');
        IF to_regclass(quote_ident(new_name)) IS NULL THEN
            EXECUTE format('ALTER INDEX %I RENAME TO %I', index_name, new_name);
        END IF;
    END LOOP;
END $$
"""


def _body(sql: str):
    def run(apps, schema_editor) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            cursor.execute(sql.format(schema=connection.ops.quote_name(cursor.fetchone()[0])))

    return run


_OLD_SWAP = importlib.import_module("ratings.migrations.0004_rollup_partition_functions")._SWAP


class Migration(migrations.Migration):
    dependencies = [("ratings", "0005_rollup_key_leads_with_organization")]

    operations = [migrations.RunPython(_body(_SWAP), _body(_OLD_SWAP), elidable=False)]
