"""The trigger form refuses what the service refuses (runs.parameters, one check for both),
as a form error, before any run exists; the run lists keep answering."""

import pytest

from projects.models import Job
from runs.models import Run
from runs.parameters import MAX_PARAMETER_BYTES

pytestmark = pytest.mark.database


@pytest.fixture
def ratio(populated) -> Job:
    return Job.objects.create(
        project=populated["project"], identifier="ratio", display_name="Ratio",
        steps=[{"name": "s", "command": ["echo", "{ratio}"]}],
        parameters=[
            {"name": "ratio", "required": False, "default": 0.5},
            {"name": "lines", "required": True, "minimum": 1, "maximum": 1000},
            {"name": "branch", "required": False, "max_length": 5},
        ],
    )


def trigger(client, data: dict):
    return client.post("/projects/examples/jobs/ratio/trigger", {"lines": "3", **data})


@pytest.mark.parametrize("value", ["1e400", "-1e400", "inf", "nan"])
def test_a_number_json_cannot_hold_is_a_form_error(operator_client, admin_client, ratio, value):
    before = Run.objects.count()
    response = trigger(operator_client, {"ratio": value})
    assert response.status_code == 400
    assert "is not a number JSON can hold" in response.content.decode()
    assert Run.objects.count() == before
    for page in ("/runs/", "/projects/examples/jobs/ratio/", "/audit/"):
        assert admin_client.get(page).status_code == 200


def test_a_parameter_beyond_its_size_is_a_form_error(operator_client, ratio):
    before = Run.objects.count()
    response = operator_client.post(
        "/projects/examples/jobs/echo/trigger", {"text": "x" * MAX_PARAMETER_BYTES}
    )
    assert response.status_code == 400
    assert f"more than the {MAX_PARAMETER_BYTES} allowed" in response.content.decode()
    assert Run.objects.count() == before


@pytest.mark.parametrize(
    "data, message",
    [
        ({"lines": "0"}, "from 1 to 1000"),
        ({"lines": "1001"}, "from 1 to 1000"),
        ({"branch": "feature"}, "at most 5 characters"),
    ],
)
def test_declared_bounds_are_form_errors(operator_client, ratio, data, message):
    before = Run.objects.count()
    response = trigger(operator_client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Run.objects.count() == before


def test_a_bounded_parameter_without_default_is_typed_as_a_number(operator_client, ratio):
    response = trigger(operator_client, {"lines": "12", "ratio": "0.25", "branch": "main"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Run.objects.get(job=ratio).parameters == {"lines": 12, "ratio": 0.25, "branch": "main"}


def test_the_trigger_form_says_the_bounds(operator_client, ratio):
    page = operator_client.get("/projects/examples/jobs/ratio/").content.decode()
    assert "A number, from 1 to 1000." in page and "At most 5 characters." in page
