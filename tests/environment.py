"""Loaded before Django (pytest.ini: `-p tests.environment`): where the tests keep their data,
and which database they run on.

The whole suite runs on SQLite. The tests whose behaviour depends on the database (marked
`database`) run again on each server database, in a session of their own:

    ORCHESTRA_TEST_DATABASE=postgresql pytest -m database
    ORCHESTRA_TEST_DATABASE=mariadb pytest -m database
    ORCHESTRA_TEST_DATABASE=mongodb pytest -m database

(`make test` runs those sessions after the first). Django's test runner creates the test
database on the server and drops it at the end; its name is unique to the session, so sessions
never share one. A server that cannot be reached ends its session at once, saying so.

MongoDB has no server on this machine: its session starts SecantusDB (a MongoDB-compatible
server, a one-member replica set, a test-time tool: requirements-test.txt) on a free port,
with its data in a temporary directory, and stops it at the end.
"""

import os
import socket
import tempfile
import uuid
from urllib.parse import urlsplit

import pytest

from tests.mongodb import MongoDBServer

# Tests never touch the developer's data directory.
os.environ.setdefault("ORCHESTRA_DATA_DIR", tempfile.mkdtemp(prefix="orchestra-test-"))

SERVER_DATABASES = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/{name}",
    "mariadb": "mysql://root@127.0.0.1:3306/{name}",
    "mongodb": "mongodb://127.0.0.1:{port}/{name}",
}
_mongodb = MongoDBServer()

_chosen = os.environ.get("ORCHESTRA_TEST_DATABASE", "")
_name = f"orchestra_{uuid.uuid4().hex[:12]}"
if _chosen:
    if _chosen not in SERVER_DATABASES:
        raise pytest.UsageError(
            f"ORCHESTRA_TEST_DATABASE: {_chosen!r} is not one of {', '.join(SERVER_DATABASES)}"
        )
    # Django's runner creates "test_<name>" beside it.
    os.environ["ORCHESTRA_DATABASE_URL"] = SERVER_DATABASES[_chosen].format(
        name=_name, port=_mongodb.port
    )


def pytest_sessionstart(session) -> None:
    if not _chosen:
        return
    if _chosen == "mongodb":
        try:
            _mongodb.start()
        except RuntimeError as error:
            pytest.exit(f"ORCHESTRA_TEST_DATABASE=mongodb: {error}", returncode=1)
        return
    address = urlsplit(os.environ["ORCHESTRA_DATABASE_URL"])
    try:
        socket.create_connection((address.hostname, address.port), timeout=3).close()
    except OSError as error:
        pytest.exit(f"ORCHESTRA_TEST_DATABASE={_chosen}: the server at {address.hostname}:"
                    f"{address.port} cannot be reached: {error}", returncode=1)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Drop the test database even when a connection a test's thread left open kept Django's
    runner from dropping it."""
    if _chosen == "mongodb":
        _mongodb.stop()
    if _chosen == "postgresql":
        import psycopg

        with psycopg.connect(SERVER_DATABASES["postgresql"].format(name="postgres"),
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "test_{_name}" WITH (FORCE)')
    elif _chosen == "mariadb":
        import pymysql

        # MariaDB has no FORCE: a connection left open only delays the drop until it closes.
        connection = pymysql.connect(host="127.0.0.1", port=3306, user="root")
        try:
            connection.cursor().execute(f"DROP DATABASE IF EXISTS `test_{_name}`")
        finally:
            connection.close()
