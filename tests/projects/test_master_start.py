import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_master_refuses_to_start_with_an_invalid_configuration(tmp_path):
    env = dict(
        os.environ,
        ORCHESTRA_DATA_DIR=str(tmp_path),
        ORCHESTRA_CONFIGURATION="tests.projects.invalid_configuration",
    )
    env.pop("ORCHESTRA_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "manage.py", "runmaster", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode != 0
    assert "project 'broken', job 'build', field 'steps[0].command'" in completed.stderr
    assert "project 'broken', schedule 'nightly', field 'cron'" in completed.stderr


def test_master_refuses_to_start_when_a_job_needs_a_secret_it_cannot_read(tmp_path):
    env = dict(
        os.environ,
        ORCHESTRA_DATA_DIR=str(tmp_path),
        ORCHESTRA_CONFIGURATION="tests.projects.secret_configuration",
    )
    env.pop("ORCHESTRA_DATABASE_URL", None)
    env.pop("ORCHESTRA_TEST_UNSET_DEPLOY_KEY", None)
    completed = subprocess.run(
        [sys.executable, "manage.py", "runmaster", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode != 0
    assert (
        "project 'shop', job 'deploy', field 'secrets.DEPLOY_KEY': the master has no secret "
        "'deploy-key' (the variable ORCHESTRA_TEST_UNSET_DEPLOY_KEY is not set)"
    ) in completed.stderr
