import pytest

from tests.e2e.harness import Orchestra


@pytest.fixture
def orchestra(tmp_path):
    """A started master (no worker) on a free loopback port, stopped at teardown."""
    installation = Orchestra(tmp_path)
    try:
        installation.start_master()
        yield installation
    finally:
        installation.stop()
