"""Where run logs are kept: on the master's disk (FileLogStore, the default) or in the
database (DatabaseLogStore), chosen with ORCHESTRA_LOG_STORE.

Both keep the same promises: `append` returns the durable size, which the master acknowledges
to the worker; a chunk that repeats bytes already stored stores only its new bytes, a chunk
that would leave a gap stores nothing; `read` answers the bytes at an offset exactly as they
were sent, and never half a chunk.

FileLogStore: one file per step, written by offset, fsync'd on acknowledge.

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

from django.db.models import Subquery

from orchestra.database import ByteLength, insert_unless_taken
from runs.models import LogChunk, Run


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


class DatabaseLogStore:
    """Run logs in the database, a row per stored chunk (runs.models.LogChunk): masters on
    different machines share them with nothing but the database.

    A chunk is stored at the step's size, the end of its last chunk, so chunks follow each
    other without gap. Two masters given the same chunk at once (a worker that moved from one
    to the other resends it) both try to store it at that size: the unique offset keeps one,
    the other finds the size grown and stores what is still new, usually nothing. A chunk
    refers to its run (a foreign key, on delete cascade), so deleting a run deletes its log in
    the same transaction.
    """

    def __init__(self, root: Path | None = None):
        """Every log store is made with the log directory (orchestra.extensions); this one
        keeps nothing there."""

    @staticmethod
    def _chunks(run_identifier: str, step_index: int):
        return LogChunk.objects.filter(run__identifier=run_identifier, step_index=int(step_index))

    def _end(self, chunks) -> int:
        """Where the last of `chunks` ends: the log's size."""
        last = chunks.order_by("-offset").annotate(length=ByteLength("data")).values_list("offset", "length").first()
        return 0 if last is None else last[0] + last[1]

    def size(self, run_identifier: str, step_index: int) -> int:
        return self._end(self._chunks(run_identifier, step_index))

    def append(self, run_identifier: str, step_index: int, offset: int, data: bytes) -> int:
        """Store `data` found at `offset` of the log; return the durable size afterwards."""
        run_key = Run.objects.filter(identifier=run_identifier).values_list("pk", flat=True).first()
        if run_key is None:
            return 0  # no such run (any more): nothing is kept for it
        chunks = LogChunk.objects.filter(run_id=run_key, step_index=int(step_index))
        size = self._end(chunks)
        while offset <= size < offset + len(data):
            # Inserted unless another master stored a chunk at `size` meanwhile.
            insert_unless_taken(LogChunk(run_id=run_key, step_index=int(step_index), offset=size,
                                         data=data[size - offset:]))
            grown = self._end(chunks)
            if grown <= size:
                raise RuntimeError(f"the log of run {run_identifier} step {step_index} could "
                                   f"not be stored at offset {size}")
            size = grown
        return size

    def read(self, run_identifier: str, step_index: int, offset: int = 0, limit: int | None = None) -> bytes:
        start = max(offset, 0)
        chunks = self._chunks(run_identifier, step_index)
        # From the chunk holding `start` (none: the log is shorter, the answer empty) ...
        first = chunks.filter(offset__lte=start).order_by("-offset").values("offset")[:1]
        wanted = chunks.filter(offset__gte=Subquery(first))
        if limit is not None:
            # ... to the last one starting before the end asked for.
            wanted = wanted.filter(offset__lt=start + limit)
        pieces = list(wanted.order_by("offset").values_list("offset", "data"))
        if not pieces:
            return b""
        data = b"".join(bytes(piece) for _, piece in pieces)
        skip = start - pieces[0][0]
        return data[skip:] if limit is None else data[skip:skip + limit]

    def delete(self, run_identifier: str) -> None:
        # By the run's key: MongoDB deletes only what a filter of the chunks' own fields names.
        run_key = Run.objects.filter(identifier=run_identifier).values_list("pk", flat=True).first()
        LogChunk.objects.filter(run_id=run_key).delete()
