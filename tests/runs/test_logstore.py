"""The log store acknowledges only bytes that survive a crash: the file's data and every
directory entry leading to a new file are on disk before `append` returns."""

import os
from pathlib import Path

import pytest

from runs.logstore import FileLogStore


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
