"""Run logs on the master's disk: one file per step, written by offset, fsync'd on acknowledge.

The file's size is the acknowledged offset: a chunk that repeats bytes already written is
written once, a chunk that would leave a gap is not written at all.

An append holds an exclusive lock on the file and a read a shared one, so a reader (the
service, the website, another master) never sees half a chunk; chunks end at line
boundaries, so readers never see half a line of a running step.

A new file or directory is only durable once the directory holding its name is fsync'd too:
without that, a crash can lose a whole acknowledged log, not just its last bytes.
"""

import fcntl
import os
from pathlib import Path


class FileLogStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, run_identifier: str, step_index: int) -> Path:
        return self.root / run_identifier[:2] / run_identifier / f"{int(step_index)}.log"

    def size(self, run_identifier: str, step_index: int) -> int:
        try:
            return self.path(run_identifier, step_index).stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, run_identifier: str, step_index: int, offset: int, data: bytes) -> int:
        """Write `data` found at `offset` of the log; return the durable size afterwards."""
        path = self.path(run_identifier, step_index)
        make_directories(path.parent)
        with open(path, "ab") as log:
            fcntl.flock(log, fcntl.LOCK_EX)
            size = log.seek(0, os.SEEK_END)
            if offset > size:
                return size  # a gap: the worker must resend from `size`
            new_bytes = data[size - offset:]
            if new_bytes:
                log.write(new_bytes)
                log.flush()
                os.fsync(log.fileno())
                if size == 0:
                    # The file's first acknowledged bytes: its name must be durable too. An
                    # empty file may have been created by a writer that crashed before
                    # syncing the directory, so "empty" is the test, not "created here".
                    sync_directory(path.parent)
            return log.tell()

    def read(self, run_identifier: str, step_index: int, offset: int = 0, limit: int | None = None) -> bytes:
        try:
            with open(self.path(run_identifier, step_index), "rb") as log:
                fcntl.flock(log, fcntl.LOCK_SH)
                log.seek(max(offset, 0))
                return log.read(-1 if limit is None else limit)
        except FileNotFoundError:
            return b""

    def delete(self, run_identifier: str) -> None:
        directory = self.root / run_identifier[:2] / run_identifier
        if directory.is_dir():
            for path in directory.iterdir():
                path.unlink()
            directory.rmdir()


def sync_directory(directory: Path) -> None:
    """Make the names held by `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_directories(directory: Path) -> None:
    """Create `directory` and its missing parents, each durable before the next is made."""
    if directory.is_dir():
        return
    make_directories(directory.parent)
    try:
        directory.mkdir()
    except FileExistsError:
        pass  # made meanwhile by another writer, which may not have synced it yet
    sync_directory(directory.parent)
