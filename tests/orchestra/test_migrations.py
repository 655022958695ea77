"""The migrations describe the models on every database Orchestra runs on."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

APPS = ("orchestra", "projects", "runs", "workers")
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.database
def test_the_migrations_describe_the_models(db):
    output = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=output)
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{output.getvalue()}")


def test_migrations_take_the_primary_key_of_the_database():
    """A generated migration spells SQL's primary key; MongoDB needs its own
    (orchestra.database.primary_key)."""
    spelt = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in sorted((ROOT / app / "migrations").glob("0*.py"))
        if re.search(r"models\.(Big|Small)?AutoField\(", path.read_text())
    ]
    assert spelt == []
