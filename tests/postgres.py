"""Fresh server databases (PostgreSQL, MariaDB; MongoDB for the race scenarios) for tests
that run a script against one in a subprocess.

Django picks its database when settings load, so a test that needs a server's real row locks
runs its scenario as `python -m <module>` with ORCHESTRA_DATABASE_URL naming a fresh database.
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
MARIADB_SERVER = "mysql://root@127.0.0.1:3306"


def _execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _execute_on_mariadb(*statements: str, database: str | None = None) -> None:
    import pymysql

    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database,
                                 connect_timeout=3, autocommit=True)
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


_mariadb_schema: list[str] = []


def migrated_mariadb_schema() -> list[str]:
    """The statements that make an empty MariaDB database a migrated one: Orchestra's tables
    and the record of the migrations applied. Migrating takes MariaDB seconds (a statement per
    change, each rewriting its table); replaying the final tables takes one. Made once per
    test session."""
    if not _mariadb_schema:
        import pymysql

        name = f"orchestra_schema_{uuid.uuid4().hex[:12]}"
        _create_mariadb_database(name)
        try:
            env = dict(os.environ, ORCHESTRA_DATABASE_URL=f"{MARIADB_SERVER}/{name}",
                       ORCHESTRA_DATA_DIR=os.environ["ORCHESTRA_DATA_DIR"])
            subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT,
                           env=env, check=True, capture_output=True, timeout=300)
            connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=name)
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SHOW TABLES")
                    tables = [table for (table,) in cursor.fetchall()]
                    statements = ["SET FOREIGN_KEY_CHECKS = 0"]
                    for table in tables:
                        cursor.execute(f"SHOW CREATE TABLE `{table}`")
                        statements.append(cursor.fetchone()[1])
                    cursor.execute("SELECT app, name, applied FROM django_migrations")
                    statements += [
                        f"INSERT INTO django_migrations (app, name, applied) VALUES "
                        f"({connection.escape(app)}, {connection.escape(migration)}, {connection.escape(applied)})"
                        for app, migration, applied in cursor.fetchall()
                    ]
            finally:
                connection.close()
            _mariadb_schema.extend(statements)
        finally:
            _execute_on_mariadb(f"DROP DATABASE IF EXISTS `{name}`")
    return _mariadb_schema


def _create_mariadb_database(name: str) -> None:
    """An empty database, made as an installation should make it (docs/operations.md)."""
    from orchestra.environment import MARIADB_COLLATION

    _execute_on_mariadb(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {MARIADB_COLLATION}")


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


@contextmanager
def fresh_mariadb_database() -> Iterator[str]:
    """The URL of a new MariaDB database, migrated, dropped afterwards; skips the test when
    the server cannot be reached."""
    name = f"orchestra_test_{uuid.uuid4().hex[:12]}"
    try:
        _create_mariadb_database(name)
    except Exception as error:
        pytest.skip(f"MariaDB is not reachable: {error}")
    try:
        _execute_on_mariadb(*migrated_mariadb_schema(), database=name)
        yield f"{MARIADB_SERVER}/{name}"
    finally:
        _execute_on_mariadb(f"DROP DATABASE IF EXISTS `{name}`")


FRESH_SERVER_DATABASES = {"postgresql": fresh_postgres_database, "mariadb": fresh_mariadb_database}
# Each server database as a parameter, marked with what it needs.
SERVER_DATABASE_PARAMETERS = [
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture
def postgres_database():
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=SERVER_DATABASE_PARAMETERS)
def server_database(request):
    """The URL of a fresh database on each server database in turn."""
    with FRESH_SERVER_DATABASES[request.param]() as url:
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


@pytest.fixture(params=["sqlite", *SERVER_DATABASE_PARAMETERS, "mongodb"])
def race_database(request, tmp_path):
    """A fresh database for a scenario of concurrent masters: a SQLite file (the default
    installation; the test run's own SQLite is in memory, where concurrent writers fail at
    once instead of waiting), then each server database, then MongoDB (a SecantusDB server of
    the test's own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.sqlite3'}"
    elif request.param == "mongodb":
        with mongodb_server() as server:
            yield server.url("orchestra_race")
    else:
        with FRESH_SERVER_DATABASES[request.param]() as url:
            yield url
