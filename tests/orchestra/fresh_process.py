"""Run Python in a new process whose settings are read from a given environment.

Settings are read once, when orchestra/settings.py is imported; a test of how an environment
variable becomes a setting therefore starts a process with that variable (and no other
ORCHESTRA_* variable of the test run's own).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh_environment(data_dir: Path, variables: dict[str, str]) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ORCHESTRA_")}
    return {
        **environment, "DJANGO_SETTINGS_MODULE": "orchestra.settings",
        "ORCHESTRA_DATA_DIR": str(data_dir), **variables,
    }


def run_python(data_dir: Path, variables: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    """`python *arguments` in the project's directory with this environment."""
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=fresh_environment(data_dir, variables),
        capture_output=True, text=True, timeout=120,
    )


def python_result(data_dir: Path, variables: dict[str, str], script: str, *arguments: str) -> object:
    """What `script` prints as JSON on its last line, run with this environment."""
    completed = run_python(data_dir, variables, "-c", script, *arguments)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


SETTINGS_SCRIPT = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def settings_from(data_dir: Path, variables: dict[str, str], *names: str) -> dict:
    """These settings as a new process reads them from this environment."""
    return python_result(data_dir, variables, SETTINGS_SCRIPT, *names)
