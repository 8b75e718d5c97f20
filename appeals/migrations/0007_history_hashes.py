"""Hash columns of the history chain (appeals/services/history.py); 0008 fills them, 0009 requires them."""

from django.db import migrations, models

HASH_FIELDS = [
    ("previous_hash", "previous hash", True),
    ("hash", "hash", False),
]


class Migration(migrations.Migration):
    dependencies = [("appeals", "0006_paused_seconds_derived")]

    operations = [
        migrations.AddField(
            model_name=model_name,
            name=name,
            field=models.CharField(max_length=64, blank=blank, editable=False, default="", verbose_name=label),
            preserve_default=False,
        )
        for model_name in ("appealevent", "reply")
        for name, label, blank in HASH_FIELDS
    ]
