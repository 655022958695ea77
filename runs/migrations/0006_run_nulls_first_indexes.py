"""PostgreSQL: the started and completed indexes put NULL first, as runs/filters.py sorts.

Runs not yet started or completed sort as the earliest on every database (SQLite's and
MariaDB's own order). PostgreSQL's default index order puts NULL last, so "most recently
completed first" read every active run before the first completed one (20 ms on 100,000
runs). The indexes keep their names; other databases are left as they are.
"""

from django.db import migrations

INDEXES = (
    ("runs_run_started_741f4a_idx", "started"),
    ("runs_run_complet_c4425a_idx", "completed"),
    ("runs_run_status_fac4b0_idx", "status, completed"),
)


def rebuild(nulls: str):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, columns in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
            schema_editor.execute(f"CREATE INDEX {name} ON runs_run ({columns} {nulls})")

    return operation


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0005_run_sort_indexes'),
    ]

    operations = [
        migrations.RunPython(rebuild("NULLS FIRST"), rebuild("NULLS LAST"), elidable=False),
    ]
