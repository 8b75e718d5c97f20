from django.db import migrations


def forwards(apps, schema_editor):
    from publics.regions_data import load_regions

    load_regions(apps.get_model("publics", "Region"))


class Migration(migrations.Migration):
    dependencies = [("publics", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
