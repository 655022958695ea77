"""A run directory holds the run request (its parameters, which may carry secrets), the steps'
logs and results: only the worker's own user may read it (0700)."""

import os
import stat

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
