"""A job the master disabled because it cannot read one of its secrets says so on its page and
in the service, and cannot be enabled there."""

import pytest

from orchestra.tokens import create_token
from projects.configuration import load_configuration
from projects.models import Job
from tests.website.conftest import make_user

pytestmark = pytest.mark.database

REASON = (
    "the master has no secret &#x27;example-token&#x27; "
    "(the variable ORCHESTRA_SECRET_EXAMPLE_TOKEN is not set)"
)


@pytest.fixture
def unset_example_token(db, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", raising=False)
    load_configuration("examples.configuration")


def test_the_job_page_shows_why_the_master_disabled_the_job(admin_client, unset_example_token):
    page = admin_client.get("/projects/examples/jobs/show-secret/").content.decode()
    assert f"disabled by the master: <span class=\"disabled-reason\">{REASON}</span>" in page
    assert "<th>EXAMPLE_TOKEN</th><td>secret example-token (shown as ***)</td>" in page
    assert 'name="enabled" value="true"' not in page  # no Enable button


def test_enabling_it_on_the_website_is_refused_with_the_reason(admin_client, unset_example_token):
    response = admin_client.post(
        "/projects/examples/jobs/show-secret/enabled", {"enabled": "true"}, follow=True
    )
    assert "cannot be enabled: " + REASON in response.content.decode()
    assert not Job.objects.get(identifier="show-secret").is_enabled


def test_the_service_shows_the_reason_and_refuses_to_enable_it(client, unset_example_token):
    _, token = create_token(make_user("ada", "administrator"))
    headers = {"Authorization": f"Bearer {token}"}
    job = client.get("/api/projects/examples/jobs/show-secret", headers=headers).json()
    assert job["is_enabled"] is False
    assert job["secrets"] == {"EXAMPLE_TOKEN": "example-token"}
    assert job["disabled_reason"].startswith("the master has no secret 'example-token'")
    response = client.post("/api/projects/examples/jobs/show-secret/enable", headers=headers)
    assert response.status_code == 409
    assert "cannot be enabled: the master has no secret" in response.json()["error"]
    assert not Job.objects.get(identifier="show-secret").is_enabled
