"""The one-primary-page constraint says what is wrong in words (it named the constraint): no change in the
database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('publics', '0003_audience_snapshot_date_index'),
    ]

    operations = [
        migrations.AlterConstraint(
            model_name='page',
            name='page_one_primary_per_platform',
            constraint=models.UniqueConstraint(condition=models.Q(('is_primary', True)), fields=('organization', 'platform'), name='page_one_primary_per_platform', violation_error_message='The organization already has a primary page on this platform.'),
        ),
    ]
