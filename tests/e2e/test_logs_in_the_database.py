"""Issue 14: two masters on PostgreSQL and Redis, each with a data directory of its own (as on
machines without a shared disk), keep logs in the database: every run's log, binary and a few
MB, is read back byte for byte through either master, by offset and in the archive."""

import io
import urllib.request
import zipfile

import pytest

from runs.archive import step_log_name
from tests.e2e.configuration import random_bytes
from tests.e2e.harness import Orchestra
from tests.e2e.test_scale_out import redis_reachable
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

SIZES = [3 * 1024 * 1024, 2 * 1024 * 1024 + 17, 1, 0]


def fetch(url: str, token: str) -> tuple[bytes, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), dict(response.headers)


def log_by_offset(master: str, token: str, identifier: str) -> bytes:
    """The service's log route read to its end a piece at a time, as a client follows a log."""
    data = b""
    while True:
        piece, headers = fetch(f"{master}/api/runs/{identifier}/steps/0/log?offset={len(data)}&limit=700000", token)
        data += piece
        if len(data) >= int(headers["X-Log-Size"]) or not piece:
            return data


def archived_log(master: str, token: str, identifier: str) -> bytes:
    archive, _ = fetch(f"{master}/api/runs/{identifier}/archive", token)
    return zipfile.ZipFile(io.BytesIO(archive)).read(step_log_name(0, "print"))


def test_masters_with_their_own_data_directories_serve_every_log_byte_for_byte(tmp_path, postgres_database):  # noqa: F811
    if not redis_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    orchestra = Orchestra(tmp_path / "first", configuration="tests.e2e.configuration", env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/14",
        "ORCHESTRA_LOG_STORE": "runs.logstore.DatabaseLogStore",
    })
    second_data_dir = tmp_path / "second"
    try:
        orchestra.start_master()
        second = orchestra.start_extra_master(env={"ORCHESTRA_DATA_DIR": str(second_data_dir)})
        masters = [orchestra.url, second]
        orchestra.start_worker("logger", executors=2)
        runs = []
        for seed, size in enumerate(SIZES):
            status, run = orchestra.api("POST", "/api/projects/resilience/jobs/random-bytes/trigger",
                                        {"parameters": {"seed": seed, "size": size}},
                                        url=masters[seed % 2])
            assert status == 201, run
            runs.append((run["identifier"], random_bytes(seed, size)))
        for identifier, expected in runs:
            run = orchestra.wait_for_run(identifier, timeout=180)
            assert (run["status"], run["steps"][0]["log_size"]) == ("succeeded", len(expected)), run
            for master in masters:
                assert log_by_offset(master, orchestra.admin_token, identifier) == expected, master
                assert archived_log(master, orchestra.admin_token, identifier) == expected, master
        # Nothing went through either master's disk.
        for data_dir in (orchestra.data_dir, second_data_dir):
            assert [path for path in (data_dir / "logs").rglob("*") if path.is_file()] == []
    finally:
        orchestra.stop()
