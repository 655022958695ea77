"""Runs whose parameters or results hold a lone surrogate (SQLite stored them, escaped, before
the trigger and the worker protocol checked their values) get U+FFFD in its place: until
then the run lists, the run's pages and its archive failed for every user."""

from django.db import migrations
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from orchestra.values import without_lone_surrogates

FIELDS = ("parameters", "results")


def repair_runs(apps, schema_editor) -> None:
    Run = apps.get_model("runs", "Run")
    # As stored text a surrogate is an escape, `\udXXX`: only those rows are read.
    suspects = Run.objects.annotate(
        **{f"{field}_text": Cast(field, TextField()) for field in FIELDS}
    ).filter(Q(parameters_text__contains="\\ud") | Q(results_text__contains="\\ud"))
    for run in suspects.only("pk", *FIELDS).iterator():
        repaired = {field: without_lone_surrogates(getattr(run, field)) for field in FIELDS}
        if any(repaired[field] != getattr(run, field) for field in FIELDS):
            Run.objects.filter(pk=run.pk).update(**repaired)


class Migration(migrations.Migration):
    dependencies = [("runs", "0008_run_retries_priority_resources")]

    operations = [migrations.RunPython(repair_runs, migrations.RunPython.noop)]
