"""The rollup partitions' DDL as three functions that run with their owner's rights (SECURITY DEFINER): the
application's database role owns no table (`manage.py grant_app_role`), and PostgreSQL lets only the parent's
owner create, attach or drop a partition. The functions take a month and derive every name from it (the one
naming rule, `ratings_rollup_partition_name`, which refuses a day other than a month's first), so the role
can do exactly this and nothing else: create a month's partition, create the table that will replace it (given
the parent's INSERT and SELECT grants, so whoever may write the rollups may fill it), and swap that table in with
the parent's indexes. The tables they create belong to the owner, so the role still owns nothing.

Written out here, not read from ratings.partitions: a migration does not change. The Python side calls them
(ratings.partitions); EXECUTE is granted by `grant_app_role`.
"""

from django.db import migrations

_NAME = """
CREATE OR REPLACE FUNCTION ratings_rollup_partition_name(month date) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF month <> date_trunc('month', month)::date THEN
        RAISE EXCEPTION 'not the first day of a month: %', month;
    END IF;
    RETURN 'ratings_rollup_p' || to_char(month, 'YYYYMM');
END $$
"""

_PARTITION = """
CREATE OR REPLACE FUNCTION ratings_rollup_partition(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    name text := ratings_rollup_partition_name(month);
BEGIN
    IF to_regclass(quote_ident(name)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF ratings_rollup FOR VALUES FROM (%L) TO (%L)',
            name, month, (month + interval '1 month')::date
        );
    END IF;
END $$
"""

_BUILD = """
CREATE OR REPLACE FUNCTION ratings_rollup_build(month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    name text := ratings_rollup_partition_name(month) || '_build';
    grantee oid;
BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE ratings_rollup INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    FOR grantee IN
        SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) AS a
        WHERE c.oid = 'ratings_rollup'::regclass AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner
    LOOP
        IF grantee = 0 THEN
            EXECUTE format('GRANT INSERT, SELECT ON %I TO PUBLIC', name);
        ELSE
            EXECUTE format('GRANT INSERT, SELECT ON %I TO %I', name, (SELECT rolname FROM pg_roles WHERE oid = grantee));
        END IF;
    END LOOP;
    RETURN name;
END $$
"""

_SWAP = """
CREATE OR REPLACE FUNCTION ratings_rollup_swap(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    partition text := ratings_rollup_partition_name(month);
    build text := partition || '_build';
    finish date := (month + interval '1 month')::date;
    index_definition text;
    constraint_definition text;
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
END $$
"""

_FUNCTIONS = (
    "ratings_rollup_partition_name(date)",
    "ratings_rollup_partition(date)",
    "ratings_rollup_build(date)",
    "ratings_rollup_swap(date)",
)


def _create(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
        for body in (_NAME, _PARTITION, _BUILD, _SWAP):
            cursor.execute(body.format(schema=schema))
        for function in _FUNCTIONS:
            # Only the roles granted them (grant_app_role) may call the functions that run as the owner; the
            # naming helper is for those functions alone.
            cursor.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def _drop(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for function in reversed(_FUNCTIONS):
            cursor.execute(f"DROP FUNCTION IF EXISTS {function}")


class Migration(migrations.Migration):
    dependencies = [("ratings", "0003_rollup_monthly_partitions")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
