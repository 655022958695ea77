"""Issue 9: a 200 MB step log is served raw and in an archive without the master holding it.

A real master and worker run a job; its step log is then grown to 200 MB through the same log
store the master writes with (the master never touches those bytes, so its peak memory before
the downloads is not inflated by receiving them). The bytes are incompressible, as a step that
prints binary output would leave them, so an archive built in memory would weigh as much as
the log.
"""

import hashlib
import json
import os
import urllib.request
import zipfile
from pathlib import Path

import pytest

from runs.archive import step_log_name
from runs.logstore import FileLogStore
from tests.e2e.conftest import orchestra  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

LOG_BYTES = 200 * 1024 * 1024
BLOCK = 1024 * 1024
# The master's peak resident memory may grow by less than this while serving the log.
ALLOWED_GROWTH = 50 * 1024 * 1024


def peak_resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def download(url: str, token: str, destination: Path) -> tuple[dict, int, str]:
    """Fetch `url` into `destination` a block at a time; returns headers, size and SHA-256."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    digest, size = hashlib.sha256(), 0
    with urllib.request.urlopen(request, timeout=300) as response, open(destination, "wb") as out:
        while block := response.read(BLOCK):
            digest.update(block)
            size += len(block)
            out.write(block)
        return dict(response.headers), size, digest.hexdigest()


def read_log_by_offset(url: str, token: str) -> tuple[int, str]:
    """The service's log route read to its end by offset, as a client follows a log."""
    digest, offset = hashlib.sha256(), 0
    while True:
        request = urllib.request.Request(f"{url}?offset={offset}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=300) as response:
            size = int(response.headers["X-Log-Size"])
            while block := response.read(BLOCK):
                digest.update(block)
                offset += len(block)
        if offset >= size:
            return offset, digest.hexdigest()


def member_digest(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while block := member.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def test_a_200_mb_log_is_served_raw_and_archived_in_bounded_memory(orchestra, tmp_path):  # noqa: F811
    orchestra.start_worker("large-log-worker")
    run = orchestra.trigger("examples", "hello")
    identifier = run["identifier"]
    assert orchestra.wait_for_run(identifier)["status"] == "succeeded"
    orchestra.kill_worker("large-log-worker")
    first = b"Hello from large-log-worker\n"
    raw_url = f"{orchestra.url}/runs/{identifier}/steps/0/raw"
    log_url = f"{orchestra.url}/api/runs/{identifier}/steps/0/log"
    archive_url = f"{orchestra.url}/api/runs/{identifier}/archive"
    token = orchestra.admin_token

    # Warm up every route once, so that what is measured is the log, not first-use imports.
    assert download(raw_url, token, tmp_path / "warm.log")[1] == len(first)
    assert read_log_by_offset(log_url, token)[0] == len(first)
    download(archive_url, token, tmp_path / "warm.zip")

    store = FileLogStore(orchestra.data_dir / "logs")
    expected = hashlib.sha256(first)
    size = len(first)
    while size < LOG_BYTES:
        block = os.urandom(BLOCK)
        size = store.append(identifier, 0, size, block)
        expected.update(block)
    expected_size, expected_digest = size, expected.hexdigest()

    before = peak_resident_bytes(orchestra.master.pid)

    headers, received, digest = download(raw_url, token, tmp_path / "raw.log")
    assert (received, digest) == (expected_size, expected_digest)
    assert headers["X-Log-Size"] == str(expected_size)
    assert read_log_by_offset(log_url, token) == (expected_size, expected_digest)

    headers, received, _ = download(archive_url, token, tmp_path / "run.zip")
    assert headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(tmp_path / "run.zip") as archive:
        assert archive.namelist() == ["run.json", "results.json", step_log_name(0, "greet")]
        data = json.loads(archive.read("run.json"))
        assert (data["identifier"], data["status"], data["worker"]) == (identifier, "succeeded", "large-log-worker")
        assert archive.getinfo(step_log_name(0, "greet")).file_size == expected_size
        assert member_digest(archive, step_log_name(0, "greet")) == expected_digest

    after = peak_resident_bytes(orchestra.master.pid)
    growth = after - before
    print(f"master peak resident memory: {before / 2**20:.1f} MiB before, {after / 2**20:.1f} MiB "
          f"after, grew {growth / 2**20:.1f} MiB serving a {expected_size / 2**20:.0f} MiB log")
    assert growth < ALLOWED_GROWTH, f"the master's peak memory grew by {growth / 2**20:.1f} MiB"
