from django.db import migrations


def forwards(apps, schema_editor):
    from appeals.reference_data import load_reference_data

    load_reference_data(apps.get_model("appeals", "Category"), apps.get_model("appeals", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
