"""Audit records whose details hold a lone surrogate (a trigger's parameters, stored escaped by
SQLite before the trigger checked them) get U+FFFD in its place: until then the audit log
failed for every auditor."""

from django.db import migrations
from django.db.models import TextField
from django.db.models.functions import Cast

from orchestra.values import without_lone_surrogates


def repair_audit(apps, schema_editor) -> None:
    AuditEvent = apps.get_model("orchestra", "AuditEvent")
    # As stored text a surrogate is an escape, `\udXXX`: only those rows are read.
    suspects = AuditEvent.objects.annotate(details_text=Cast("details", TextField())).filter(
        details_text__contains="\\ud"
    )
    for event in suspects.only("pk", "details").iterator():
        repaired = without_lone_surrogates(event.details)
        if repaired != event.details:
            AuditEvent.objects.filter(pk=event.pk).update(details=repaired)


class Migration(migrations.Migration):
    dependencies = [("orchestra", "0002_login_failure")]

    operations = [migrations.RunPython(repair_audit, migrations.RunPython.noop)]
