"""On PostgreSQL the rollup table becomes partitioned by month of `day` (ratings.partitions): a rebuild of a month
builds the month's rows and indexes in a new table and swaps it in, instead of deleting and inserting them one by
one under five indexes. Same columns, checks and named indexes; the primary key becomes (id, day), as a
partitioned table requires, and `id` takes its values from an owned sequence (PostgreSQL 15 has no identity
columns on partitioned tables). The model is unchanged, so SQLite and Django's state see no difference.

The existing rows are copied into partitions of their months. Reversing leaves the partitioned table: it is
the same table to everything above the database."""

from django.db import migrations

_OLD = "ratings_rollup_unpartitioned"


def _partition(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'ratings_rollup'::regclass")
        if cursor.fetchone()[0] == "p":
            return
        cursor.execute(f"ALTER TABLE ratings_rollup RENAME TO {_OLD}")
        # Free the names: the identity's sequence goes with DROP IDENTITY, the indexes with their table below.
        cursor.execute(f"ALTER TABLE {_OLD} ALTER id DROP IDENTITY")
        for index in ("rollup_unique_key", "rollup_region_day_idx", "rollup_org_day_idx", "rollup_page_day_idx"):
            cursor.execute(f"DROP INDEX {index}")
        cursor.execute(f"ALTER TABLE {_OLD} DROP CONSTRAINT ratings_rollup_pkey")
        cursor.execute(
            f"CREATE TABLE ratings_rollup (LIKE {_OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (day)"
        )
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_OLD}")
        start = cursor.fetchone()[0]
        cursor.execute(f"CREATE SEQUENCE ratings_rollup_id_seq START WITH {int(start)} OWNED BY ratings_rollup.id")
        cursor.execute("ALTER TABLE ratings_rollup ALTER id SET DEFAULT nextval('ratings_rollup_id_seq')")
        cursor.execute("ALTER TABLE ratings_rollup ADD CONSTRAINT ratings_rollup_pkey PRIMARY KEY (id, day)")
        cursor.execute(
            "CREATE UNIQUE INDEX rollup_unique_key ON ratings_rollup "
            "(day, region_id, organization_id, COALESCE(page_id, 0), kind, COALESCE(category_id, 0))"
        )
        cursor.execute("CREATE INDEX rollup_region_day_idx ON ratings_rollup (region_id, day)")
        cursor.execute("CREATE INDEX rollup_org_day_idx ON ratings_rollup (organization_id, day)")
        cursor.execute("CREATE INDEX rollup_page_day_idx ON ratings_rollup (page_id, day)")
        # Partitions named as ratings.partitions names them (written out here: a migration does not change).
        cursor.execute(f"SELECT DISTINCT date_trunc('month', day)::date FROM {_OLD} ORDER BY 1")
        for (month,) in cursor.fetchall():
            cursor.execute(
                f"CREATE TABLE ratings_rollup_p{month:%Y%m} PARTITION OF ratings_rollup "
                "FOR VALUES FROM (%s) TO (%s::date + interval '1 month')",
                [month, month],
            )
        cursor.execute(f"INSERT INTO ratings_rollup SELECT * FROM {_OLD}")
        cursor.execute(f"DROP TABLE {_OLD}")


class Migration(migrations.Migration):
    dependencies = [("ratings", "0002_rollup_lean_writes")]

    operations = [migrations.RunPython(_partition, migrations.RunPython.noop, elidable=False)]
