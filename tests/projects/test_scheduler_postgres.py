import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgresql://postgres@127.0.0.1:5432"


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture
def postgres_database():
    try:
        import psycopg

        psycopg.connect(f"{SERVER}/postgres", connect_timeout=3).close()
    except Exception as error:
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    name = f"orchestra_race_{uuid.uuid4().hex[:12]}"
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_several_masters_trigger_one_run_per_tick(postgres_database, tmp_path):
    env = dict(os.environ, ORCHESTRA_DATABASE_URL=postgres_database, ORCHESTRA_DATA_DIR=str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-m", "tests.projects.scheduler_race"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert results == {
        "9:00": 0, "9:00 active": 0,  # first sight: the 9:00 tick is recorded without a run
        "10:00": 1, "10:00 active": 1,  # four masters, one run
        "11:00": 0, "11:00 active": 1,  # the 10:00 run is still pending: no second one
        "12:00": 1, "12:00 active": 1,
        "13:00": 0, "13:00 active": 1,
        "runs": 2,
    }
