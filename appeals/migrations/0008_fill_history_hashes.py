"""Chain the history written before hashes existed, per appeal in id order (the order verify_history checks).

The hash functions are imported, not copied: these hashes must be exactly those `verify_history` recomputes.
On PostgreSQL the append-only trigger is disabled for this one transaction (the owner runs migrations).
"""

from django.db import migrations

BATCH = 2000


def _fill(model, compute) -> None:
    previous_appeal, previous_hash, dirty = None, "", []
    for row in model.objects.order_by("appeal_id", "id").iterator(chunk_size=BATCH):
        if row.appeal_id != previous_appeal:
            previous_appeal, previous_hash = row.appeal_id, ""
        row.previous_hash = previous_hash
        row.hash = previous_hash = compute(row, previous_hash)
        dirty.append(row)
        if len(dirty) >= BATCH:
            model.objects.bulk_update(dirty, ["previous_hash", "hash"])
            dirty = []
    model.objects.bulk_update(dirty, ["previous_hash", "hash"])


def fill(apps, schema_editor):
    from appeals.services.history import event_hash, reply_hash

    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE appeals_appealevent DISABLE TRIGGER appeals_event_append_only")
    _fill(apps.get_model("appeals", "AppealEvent"), event_hash)
    _fill(apps.get_model("appeals", "Reply"), reply_hash)
    if postgres:
        schema_editor.execute("ALTER TABLE appeals_appealevent ENABLE TRIGGER appeals_event_append_only")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0007_history_hashes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
