"""The SQLite database holds token and password hashes and run parameters: it, its WAL and
its shared-memory file are readable by their owner alone (0600), like the secret key, whether
the master creates the database or finds one made readable by others."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Migrates with the connection still open, so that the WAL and shared-memory files exist,
# then prints the mode of each file.
SCRIPT = """
from pathlib import Path
from django.conf import settings
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM auth_user")
database = Path(settings.DATABASES["default"]["NAME"])
for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
    print(path.name, oct(path.stat().st_mode & 0o777))
"""


def modes_after_start(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "ORCHESTRA_DATABASE_URL"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", SCRIPT],
        cwd=ROOT, env={**env, "ORCHESTRA_DATA_DIR": str(data_dir)}, capture_output=True,
        text=True, timeout=180,
        # The usual umask, under which files are readable by everyone unless made otherwise.
        preexec_fn=lambda: os.umask(0o022),
    )
    assert completed.returncode == 0, completed.stderr
    return dict(
        line.split() for line in completed.stdout.splitlines()
        if line.startswith("orchestra.sqlite3")
    )


def test_a_database_the_master_creates_is_private(tmp_path):
    assert modes_after_start(tmp_path) == {
        "orchestra.sqlite3": "0o600", "orchestra.sqlite3-wal": "0o600",
        "orchestra.sqlite3-shm": "0o600",
    }


def test_a_database_readable_by_others_is_made_private(tmp_path):
    database = tmp_path / "orchestra.sqlite3"
    previous = os.umask(0o022)
    try:
        sqlite3.connect(database).close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(database.stat().st_mode) == 0o644
    assert set(modes_after_start(tmp_path).values()) == {"0o600"}
