"""The run filters (JSON results included), sort orders, list parameters and error answers on
PostgreSQL, not only SQLite.

The database is chosen when Django starts, so the same tests run again in a pytest
subprocess whose ORCHESTRA_DATABASE_URL names the PostgreSQL server.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_run_filters_sorting_and_errors_on_postgresql(tmp_path):
    try:
        psycopg.connect(f"{SERVER}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    env = dict(
        os.environ,
        ORCHESTRA_DATABASE_URL=f"{SERVER}/orchestra_api_{os.getpid()}",
        ORCHESTRA_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db",
         "tests/api/test_runs.py", "tests/api/test_filters.py", "tests/api/test_errors.py",
         "tests/api/test_list_parameters.py", "-k",
         "filter or sorts or queries or result or test_errors or test_list_parameters"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]
