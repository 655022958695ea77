from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e.harness import Orchestra
from tests.postgres import fresh_mariadb_database


@contextmanager
def started_orchestra(tmp_path, database_url: str | None = None,
                      configuration: str = "examples.configuration") -> Iterator[Orchestra]:
    """A started master (no worker) on a free loopback port, on SQLite or on the database
    `database_url` names, stopped at the end."""
    env = {"ORCHESTRA_DATABASE_URL": database_url} if database_url else None
    installation = Orchestra(tmp_path, configuration=configuration, env=env)
    try:
        installation.start_master()
        yield installation
    finally:
        installation.stop()


def module_configuration(request) -> str:
    """The configuration a test module names in its CONFIGURATION; the examples by default."""
    return getattr(request.module, "CONFIGURATION", "examples.configuration")


@pytest.fixture
def orchestra(tmp_path, request):
    """A started master (no worker) on SQLite with the module's configuration, stopped at
    teardown."""
    with started_orchestra(tmp_path, configuration=module_configuration(request)) as installation:
        yield installation


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def e2e_database(request) -> Iterator[str | None]:
    """Each database the end-to-end tests that use it run on: None for the default SQLite
    installation, then the URL of a fresh MariaDB database (PostgreSQL has end-to-end tests of
    its own: the scale-out ones)."""
    if request.param == "sqlite":
        yield None
    else:
        with fresh_mariadb_database() as url:
            yield url


@pytest.fixture
def orchestra_on_each_database(tmp_path, e2e_database, request):
    """A started master as `orchestra`, on each database in turn."""
    with started_orchestra(tmp_path, e2e_database, module_configuration(request)) as installation:
        yield installation
