"""A GIN index on runs' results (PostgreSQL only), for the result-value filter.

runs/filters.py asks PostgreSQL `results @> {"key": value}`, which this index answers without
reading every run's results. SQLite and MariaDB have no such index: there the filter reads the
runs in the list's order until a page is full. The index is not in the model's Meta so that
the migration state stays the same on every database.
"""

from django.db import migrations

INDEX = "runs_run_results_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON runs_run USING gin (results jsonb_path_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0003_run_created_id_index'),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
