"""A run's archive: the website and the service serve one archive under one name."""

import io
import zipfile

import pytest

from orchestra.extensions import log_store
from tests.api.conftest import catalogue, fast_password_hashing, make_run, service, users  # noqa: F401

# The same archive from either log store.
pytestmark = pytest.mark.usefixtures("configured_log_store")


def members(response) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    return {name: archive.read(name) for name in archive.namelist()}


def test_website_and_service_serve_the_same_archive_under_the_same_name(service, catalogue):  # noqa: F811
    run = make_run(catalogue["hello"], results={"answer": 42}, steps=2)
    log_store().append(run.identifier, 1, 0, b"second step\n")
    website = service("operator").get(f"/runs/{run.identifier}/archive")
    api = service("operator").get(f"/api/runs/{run.identifier}/archive")
    name = f'attachment; filename="examples-hello-{run.identifier}.zip"'
    assert (website.status_code, website["Content-Disposition"]) == (200, name)
    assert (api.status_code, api["Content-Disposition"]) == (200, name)
    served = members(api)
    assert members(website) == served
    assert list(served) == ["run.json", "results.json", "logs/0-step-0.log", "logs/1-step-1.log"]
    assert (served["logs/0-step-0.log"], served["logs/1-step-1.log"]) == (b"", b"second step\n")
    log_store().delete(run.identifier)
