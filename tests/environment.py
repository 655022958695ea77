"""Loaded before Django (pytest.ini: `-p tests.environment`): where the tests keep their data,
and which database they run on.

The whole suite runs on SQLite. The tests whose behaviour depends on the database (marked
`database`) run again on each server database, in a session of their own:

    ORCHESTRA_TEST_DATABASE=postgresql pytest -m database

(`make test` runs those sessions after the first). Django's test runner creates the test
database on the server and drops it at the end; its name is unique to the session, so sessions
never share one. A server that cannot be reached ends its session at once, saying so.

MongoDB has no server on this machine: its session starts SecantusDB (a MongoDB-compatible
server, a one-member replica set, a test-time tool: requirements-test.txt) on a free port,
with its data in a temporary directory, and stops it at the end.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Tests never touch the developer's data directory.
os.environ.setdefault("ORCHESTRA_DATA_DIR", tempfile.mkdtemp(prefix="orchestra-test-"))

SERVER_DATABASES = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/{name}",
    "mongodb": "mongodb://127.0.0.1:{port}/{name}",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_mongodb_port = _free_port()
_mongodb_storage = tempfile.mkdtemp(prefix="orchestra-mongodb-")
_mongodb_server: subprocess.Popen | None = None

_chosen = os.environ.get("ORCHESTRA_TEST_DATABASE", "")
_name = f"orchestra_{uuid.uuid4().hex[:12]}"
if _chosen:
    if _chosen not in SERVER_DATABASES:
        raise pytest.UsageError(
            f"ORCHESTRA_TEST_DATABASE: {_chosen!r} is not one of {', '.join(SERVER_DATABASES)}"
        )
    # Django's runner creates "test_<name>" beside it.
    os.environ["ORCHESTRA_DATABASE_URL"] = SERVER_DATABASES[_chosen].format(
        name=_name, port=_mongodb_port
    )


def pytest_sessionstart(session) -> None:
    if not _chosen:
        return
    if _chosen == "mongodb":
        _start_mongodb_server()
    address = urlsplit(os.environ["ORCHESTRA_DATABASE_URL"])
    # SecantusDB takes a few seconds to start on a loaded machine.
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection((address.hostname, address.port), timeout=3).close()
            return
        except OSError as error:
            starting = _mongodb_server is not None and _mongodb_server.poll() is None
            if starting and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            pytest.exit(f"ORCHESTRA_TEST_DATABASE={_chosen}: the server at {address.hostname}:"
                        f"{address.port} cannot be reached: {error}", returncode=1)


def _start_mongodb_server() -> None:
    global _mongodb_server
    _mongodb_server = subprocess.Popen(
        [sys.executable, "-m", "tests.mongodb_server",
         "--host", "127.0.0.1", "--port", str(_mongodb_port), "--storage-path", _mongodb_storage,
         "--log-level", "WARNING"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )


def pytest_sessionfinish(session, exitstatus) -> None:
    """Drop the test database even when a connection a test's thread left open kept Django's
    runner from dropping it."""
    if _mongodb_server is not None:
        _mongodb_server.terminate()
        try:
            _mongodb_server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _mongodb_server.kill()
            _mongodb_server.wait()
        shutil.rmtree(_mongodb_storage, ignore_errors=True)
    if _chosen == "postgresql":
        import psycopg

        with psycopg.connect(SERVER_DATABASES["postgresql"].format(name="postgres"),
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "test_{_name}" WITH (FORCE)')
