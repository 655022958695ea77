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
