"""A run directory holds the run request (its parameters, which may carry secrets), the steps'
logs and results: only the worker's own user may read it (0700)."""

import json
import os
import stat

import pytest

from workers.client.rundir import RunDirectory

REQUEST = {"identifier": "r1", "project": "p", "job": "j", "worker": "w1", "parameters": {},
           "steps": [{"name": "s", "command": ["true"]}]}


def test_a_run_directory_is_private_to_the_worker(tmp_path):
    previous = os.umask(0o022)
    try:
        directory = RunDirectory.create(tmp_path / "runs", REQUEST)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(directory.path.stat().st_mode) == 0o700


def test_a_run_directory_made_before_is_made_private(tmp_path):
    (tmp_path / "runs" / "r1").mkdir(parents=True, mode=0o755)
    directory = RunDirectory.create(tmp_path / "runs", REQUEST)
    assert stat.S_IMODE(directory.path.stat().st_mode) == 0o700


def test_a_runs_secrets_are_in_a_file_only_the_worker_reads_and_leave_with_the_directory(tmp_path):
    previous = os.umask(0o000)
    try:
        directory = RunDirectory.create(tmp_path / "runs", {**REQUEST, "secrets": {"TOKEN": "hunter2"}})
    finally:
        os.umask(previous)
    secrets = directory.path / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert json.loads(secrets.read_text()) == {"TOKEN": "hunter2"}
    assert "hunter2" not in (directory.path / "run.json").read_text()
    directory.delete()
    assert not secrets.exists()
    assert not directory.path.exists()


def test_a_secrets_file_left_readable_by_others_is_made_private(tmp_path):
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "secrets.json").write_text("{}")
    (tmp_path / "runs" / "r1" / "secrets.json").chmod(0o644)
    directory = RunDirectory.create(tmp_path / "runs", {**REQUEST, "secrets": {"TOKEN": "hunter2"}})
    assert stat.S_IMODE((directory.path / "secrets.json").stat().st_mode) == 0o600


def test_secrets_that_are_not_texts_are_refused(tmp_path):
    with pytest.raises(ValueError, match="object of variable names to texts"):
        RunDirectory.create(tmp_path / "runs", {**REQUEST, "secrets": {"TOKEN": 42}})
