"""A SecantusDB server for the tests (a MongoDB-compatible single-node server advertised as a
one-member replica set; tests/mongodb_server.py): started on a free loopback port with its
data in a directory of its own, stopped and removed at the end. Imports nothing of SecantusDB
or Django, so that tests/environment.py can start one before Django loads."""

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MongoDBServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.storage: str | None = None
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it accepts connections (it takes seconds on a
        loaded machine); raises RuntimeError if it does not."""
        self.storage = tempfile.mkdtemp(prefix="orchestra-mongodb-")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.mongodb_server", "--host", "127.0.0.1",
             "--port", str(self.port), "--storage-path", self.storage, "--log-level", "WARNING"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=3).close()
                return
            except OSError as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SecantusDB did not start on port {self.port}: {error}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.storage is not None:
            shutil.rmtree(self.storage, ignore_errors=True)


@contextmanager
def mongodb_server() -> Iterator[MongoDBServer]:
    server = MongoDBServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mongodb_database() -> Iterator[str]:
    """The URL of a database on a SecantusDB server of the test's own."""
    with mongodb_server() as server:
        yield server.url("orchestra")
