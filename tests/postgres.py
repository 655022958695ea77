"""A fresh PostgreSQL database for tests that run a script against it in a subprocess.

Django picks its database when settings load, so a test that needs real PostgreSQL row locks
runs its scenario as `python -m <module>` with ORCHESTRA_DATABASE_URL naming this database.
"""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.mongodb import mongodb_server

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgresql://postgres@127.0.0.1:5432"


def _execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards; skips the test when
    the server cannot be reached."""
    try:
        import psycopg

        psycopg.connect(f"{SERVER}/postgres", connect_timeout=3).close()
    except Exception as error:
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    name = f"orchestra_test_{uuid.uuid4().hex[:12]}"
    _execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database():
    with fresh_postgres_database() as url:
        yield url


def run_scenario(module: str, database_url: str, data_dir) -> dict:
    """Run `python -m module` against the database; returns the JSON on its last output line."""
    env = dict(os.environ, ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_DATA_DIR=str(data_dir))
    completed = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        "mongodb"])
def race_database(request, tmp_path):
    """A fresh database for a scenario of concurrent masters: a SQLite file (the default
    installation; the test run's own SQLite is in memory, where concurrent writers fail at
    once instead of waiting), then PostgreSQL, then MongoDB (a SecantusDB server of the
    test's own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.sqlite3'}"
    elif request.param == "mongodb":
        with mongodb_server() as server:
            yield server.url("orchestra_race")
    else:
        yield request.getfixturevalue("postgres_database")
