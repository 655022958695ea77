"""Fixtures shared by the tests of runs."""

import pytest

from orchestra.extensions import log_store

LOG_STORES = {
    "file": "runs.logstore.FileLogStore",
    "database": "runs.logstore.DatabaseLogStore",
}


@pytest.fixture(params=LOG_STORES)
def configured_log_store(request, settings):
    """Each log store in turn as ORCHESTRA_LOG_STORE sets it: the tests that use it hold for
    both."""
    settings.LOG_STORE = LOG_STORES[request.param]
    log_store.cache_clear()
    yield log_store()
    log_store.cache_clear()
