"""A SecantusDB server for the tests (a MongoDB-compatible single-node server advertised as a
one-member replica set; tests/mongodb_server.py): started on a free loopback port with its
data in a directory of its own, stopped and removed at the end. Imports nothing of SecantusDB
or Django, so that tests/environment.py can start one before Django loads."""

import ctypes
import os
import shutil
import signal
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
# Linux's prctl(2): the server is killed when the test process ends, however it ends (its data
# is temporary).
PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def _ends_with_parent(parent: int):
    def preexec() -> None:
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)

    return preexec


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
            preexec_fn=_ends_with_parent(os.getpid()),
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
            # SIGINT: SIGTERM may be blocked, and a blocked signal stays so in the children.
            self.process.send_signal(signal.SIGINT)
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
