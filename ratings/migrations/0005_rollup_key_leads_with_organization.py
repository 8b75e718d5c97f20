"""The rollups' unique key leads with the organisation, and the (organization, day) index goes: the key serves
what it served (an operator's dashboards by period, the re-roll's delete of an organisation). One index fewer to
build with each month a rebuild swaps in, and to write on every re-roll. On a partitioned table (PostgreSQL) the
statements act on every partition."""

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0015_queue_indexes_of_open_appeals'),
        ('publics', '0003_audience_snapshot_date_index'),
        ('ratings', '0004_rollup_partition_functions'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='rollup',
            name='rollup_unique_key',
        ),
        migrations.RemoveIndex(
            model_name='rollup',
            name='rollup_org_day_idx',
        ),
        migrations.AddConstraint(
            model_name='rollup',
            constraint=models.UniqueConstraint(models.F('organization'), django.db.models.functions.comparison.Coalesce('page', 0), models.F('day'), models.F('kind'), django.db.models.functions.comparison.Coalesce('category', 0), models.F('region'), name='rollup_unique_key'),
        ),
    ]
