"""The log stores acknowledge only bytes they keep: the size `append` returns is durable, a
repeated chunk is stored once, a chunk beyond the end is not stored, and reads by offset
answer the bytes as they were sent. Both stores keep these promises; the file store also
makes every new file's name durable before it answers."""

import os
import random
import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from orchestra.audit import SYSTEM
from orchestra.database import atomic
from projects.models import Job, Project
from runs.actions import do_trigger_run
from runs.logstore import DatabaseLogStore, FileLogStore
from runs.models import LogChunk, Run
from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)



def on_the_database(test):
    """A test of what is kept in the database: it runs on each database."""
    return pytest.mark.database(pytest.mark.django_db(test))


@pytest.fixture
def run_identifier() -> str:
    """A run to log for: the database store keeps logs of runs that exist."""
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="j",
                             steps=[{"name": "s", "command": ["true"]}])
    return do_trigger_run(job, {}, SYSTEM).identifier


@pytest.fixture(params=["file", "database"])
def store(request, tmp_path):
    return FileLogStore(tmp_path) if request.param == "file" else DatabaseLogStore(tmp_path)


@on_the_database
def test_chunks_are_written_once_and_never_with_a_gap(store, run_identifier):
    assert store.append(run_identifier, 0, 0, b"one\n") == 4
    assert store.append(run_identifier, 0, 0, b"one\n") == 4  # repeated: nothing new
    assert store.append(run_identifier, 0, 2, b"e\ntwo\n") == 8  # overlapping: only the new bytes
    assert store.append(run_identifier, 0, 20, b"far\n") == 8  # a gap: nothing written
    assert store.read(run_identifier, 0) == b"one\ntwo\n"
    assert store.read(run_identifier, 0, offset=4, limit=2) == b"tw"
    assert store.size(run_identifier, 0) == 8
    assert store.size(run_identifier, 1) == 0 and store.read(run_identifier, 1) == b""


@on_the_database
def test_reads_by_offset_answer_the_bytes_as_sent_across_chunks(store, run_identifier):
    generator = random.Random(14)
    log = bytes(generator.getrandbits(8) for _ in range(50_000))  # every byte value, NULs too
    offset = 0
    while offset < len(log):
        chunk = log[offset:offset + generator.randint(1, 5000)]
        assert store.append(run_identifier, 2, offset, chunk) == offset + len(chunk)
        offset += len(chunk)
    assert store.read(run_identifier, 2) == log
    for _ in range(200):
        start, limit = generator.randint(0, len(log) + 10), generator.randint(0, 9000)
        assert store.read(run_identifier, 2, start, limit) == log[start:start + limit]
        assert store.read(run_identifier, 2, start) == log[start:]
    assert store.read(run_identifier, 2, len(log), 10) == b""


@on_the_database
def test_deleting_a_runs_log_deletes_every_step(store, run_identifier):
    store.append(run_identifier, 0, 0, b"zero\n")
    store.append(run_identifier, 1, 0, b"one\n")
    store.delete(run_identifier)
    assert [store.size(run_identifier, step) for step in (0, 1)] == [0, 0]
    assert store.read(run_identifier, 1) == b""
    store.delete(run_identifier)  # nothing left: nothing to do


@on_the_database
def test_the_database_store_deletes_a_log_with_its_run(run_identifier):
    store = DatabaseLogStore()
    store.append(run_identifier, 0, 0, b"zero\n")
    with atomic():
        Run.objects.filter(identifier=run_identifier).delete()
    assert not LogChunk.objects.exists()


@on_the_database
def test_the_database_store_keeps_nothing_for_an_unknown_run():
    assert DatabaseLogStore().append("0123456789abcdef", 0, 0, b"lost\n") == 0
    assert not LogChunk.objects.exists()


@on_the_database
def test_a_step_holds_one_chunk_per_offset(run_identifier):
    run = Run.objects.get(identifier=run_identifier)
    LogChunk.objects.create(run=run, step_index=0, offset=0, data=b"one\n")
    with pytest.raises(IntegrityError), transaction.atomic():
        LogChunk.objects.create(run=run, step_index=0, offset=0, data=b"other\n")


class LateMaster(DatabaseLogStore):
    """A master that reads the log's size just before another master stores a chunk: the
    window two masters given the same chunk at once race in."""

    def __init__(self, meanwhile):
        super().__init__()
        self.meanwhile = meanwhile

    def _end(self, chunks) -> int:
        size = super()._end(chunks)
        if self.meanwhile:
            self.meanwhile, meanwhile = None, self.meanwhile
            meanwhile()
        return size


@on_the_database
@pytest.mark.parametrize("resent, expected_chunks", [
    (b"one\n", [b"one\n"]),  # the same chunk: stored once
    (b"one\ntwo\n", [b"one\n", b"two\n"]),  # a longer one: only its new bytes are added
])
def test_a_chunk_two_masters_store_at_once_is_kept_once(run_identifier, resent, expected_chunks):
    other = DatabaseLogStore()
    late = LateMaster(lambda: other.append(run_identifier, 0, 0, b"one\n"))
    assert late.append(run_identifier, 0, 0, resent) == len(resent)
    assert late.read(run_identifier, 0) == resent
    assert [bytes(data) for data in LogChunk.objects.order_by("offset").values_list("data", flat=True)] \
        == expected_chunks


def test_masters_storing_the_same_log_at_once_keep_every_byte_once(race_database, tmp_path):  # noqa: F811
    report = run_scenario("tests.runs.logstore_race", race_database, tmp_path)
    assert report["logs"] == report["expected"]
    assert report["chunks"] == report["expected_chunks"]
    assert report["short_acknowledgements"] == [[], []]
    assert report["torn_reads"] == []


# The file store's durability: what it fsyncs, and when.

@pytest.fixture
def synced(monkeypatch) -> list[Path]:
    """The paths `os.fsync` is really called on, in order (the real fsync still runs)."""
    paths = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        paths.append(Path(os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return paths


def test_a_new_log_syncs_its_file_and_every_directory_entry_it_created(tmp_path, synced):
    root = tmp_path / "logs"  # does not exist yet: the store creates it too
    store = FileLogStore(root)
    assert store.append("abcdef", 0, 0, b"one\n") == 4
    # Each created entry is durable once the directory holding it is synced; the order
    # between them does not matter, only that all happen before the append returns.
    assert sorted(synced) == sorted([
        root / "ab" / "abcdef" / "0.log",  # the bytes
        root / "ab" / "abcdef",  # holds the new file
        root / "ab",  # holds the new run directory
        root,  # holds the new "ab"
        tmp_path,  # holds the new root
    ])


def test_a_new_step_of_a_known_run_syncs_its_file_and_run_directory(tmp_path, synced):
    store = FileLogStore(tmp_path)
    store.append("abcdef", 0, 0, b"one\n")
    synced.clear()
    assert store.append("abcdef", 1, 0, b"two\n") == 4
    assert sorted(synced) == sorted([tmp_path / "ab" / "abcdef" / "1.log", tmp_path / "ab" / "abcdef"])


def test_appending_to_an_existing_log_syncs_the_file_alone(tmp_path, synced):
    store = FileLogStore(tmp_path)
    store.append("abcdef", 0, 0, b"one\n")
    synced.clear()
    assert store.append("abcdef", 0, 4, b"two\n") == 8
    assert synced == [tmp_path / "ab" / "abcdef" / "0.log"]
    synced.clear()
    assert store.append("abcdef", 0, 0, b"one\n") == 8  # nothing new: nothing to sync
    assert synced == []
    assert store.read("abcdef", 0) == b"one\ntwo\n"


def test_file_store_readers_never_see_half_a_chunk(tmp_path):
    store = FileLogStore(tmp_path)
    chunk = b"".join(b"line %06d\n" % number for number in range(400000))
    torn = []

    def read_while_writing():
        while store.size("r", 0) < 10 * len(chunk):
            data = store.read("r", 0)
            if len(data) % len(chunk):
                torn.append(len(data))

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    for index in range(10):
        store.append("r", 0, index * len(chunk), chunk)
    reader.join()
    assert torn == []
