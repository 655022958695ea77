import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_master(tmp_path: Path, configuration: str, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`manage.py runmaster` on a fresh SQLite database with `configuration`, without the
    environment variables `unset`, to its end."""
    env = dict(os.environ, ORCHESTRA_DATA_DIR=str(tmp_path), ORCHESTRA_CONFIGURATION=configuration)
    for name in ("ORCHESTRA_DATABASE_URL", *unset):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "runmaster", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_master_refuses_to_start_with_an_invalid_configuration(tmp_path):
    completed = start_master(tmp_path, "tests.projects.invalid_configuration")
    assert completed.returncode != 0
    assert "project 'broken', job 'build', field 'steps[0].command'" in completed.stderr
    assert "project 'broken', schedule 'nightly', field 'cron'" in completed.stderr


def test_master_refuses_to_start_when_a_job_needs_a_secret_it_cannot_read(tmp_path):
    completed = start_master(tmp_path, "tests.projects.secret_configuration",
                             unset=("ORCHESTRA_TEST_UNSET_DEPLOY_KEY",))
    assert completed.returncode != 0
    assert (
        "project 'shop', job 'deploy', field 'secrets.DEPLOY_KEY': the master has no secret "
        "'deploy-key' (the variable ORCHESTRA_TEST_UNSET_DEPLOY_KEY is not set)"
    ) in completed.stderr
