"""What a trigger takes: a value that cannot be stored and shown back is refused (400), before
any run or audit record exists, so one request can never break a list for everyone.

The same file runs on PostgreSQL too (marked `database`, tests/environment.py), where the database
itself refuses NUL and lone surrogates in JSON.
"""

import pytest

from orchestra.models import AuditEvent
from projects.models import Job
from runs.models import Run
from runs.parameters import MAX_PARAMETER_BYTES, MAX_PARAMETERS_BYTES

pytestmark = pytest.mark.database

TRIGGER = "/api/projects/examples/jobs/echo/trigger"


def post_raw(service, path: str, body: str):
    """A JSON body written by hand: the test client's own encoder cannot write `1e400`."""
    return service.client.post(path, body, content_type="application/json",
                               headers=service.headers)


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert Run.objects.count() == 0
    assert not AuditEvent.objects.filter(action="run.trigger").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"parameters": {"text": "\\ud800"}}', "parameters.text"),
        ('{"parameters": {"text": "a\\udfffb"}}', "parameters.text"),
        ('{"parameters": {"text": "a\\u0000b"}}', "parameters.text"),
        ('{"parameters": {"text": 1e400}}', "parameters.text"),
        ('{"parameters": {"text": -1e400}}', "parameters.text"),
    ],
)
def test_a_parameter_that_cannot_be_stored_and_shown_is_refused(service, catalogue, body, field):
    operator = service("operator")
    assert_refused(post_raw(operator, TRIGGER, body), field)
    # Nothing was saved, so every list still answers.
    for path in ("/api/runs", "/api/audit"):
        assert service("administrator").get(path).status_code == 200


def test_a_parameter_name_that_cannot_be_shown_is_refused_without_echoing_it(service, catalogue):
    response = post_raw(service("operator"), TRIGGER,
                        '{"parameters": {"text": "x", "\\ud800": 1}}')
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "parameters"
    assert Run.objects.count() == 0


def test_valid_unicode_text_is_stored_and_shown_back(service, catalogue):
    text = "caf\u00e9 \U0001f600 \u65e5\u672c tab\tnew\nline"
    response = service("operator").post(TRIGGER, {"parameters": {"text": text}})
    assert response.status_code == 201, response.content
    listed = service("viewer").get("/api/runs").json()["results"]
    assert [run["parameters"] for run in listed] == [{"text": text}]


def test_unicode_parameter_names_and_texts_with_controls_are_kept(service, catalogue):
    """Free text may hold any character but NUL: a parameter is not one line of text."""
    text = "bell \x07 and escape \x1b"
    response = service("operator").post(TRIGGER, {"parameters": {"text": text}})
    assert response.status_code == 201, response.content
    assert service("viewer").get("/api/runs").json()["results"][0]["parameters"] == {"text": text}


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_beyond_64_bits_is_refused(service, catalogue, value):
    assert_refused(post_raw(service("operator"), TRIGGER, f'{{"parameters": {{"text": {value}}}}}'),
                   "parameters.text")


# Sizes ----------------------------------------------------------------------------------------


@pytest.fixture
def wide(catalogue) -> Job:
    """A job with five text parameters, none required."""
    return Job.objects.create(
        project=catalogue["project"], identifier="wide", display_name="Wide",
        steps=[{"name": "s", "command": ["true"]}],
        parameters=[{"name": f"p{index}", "required": False} for index in range(5)],
    )


def test_a_parameter_up_to_its_size_limit_is_taken_and_one_byte_more_is_refused(service, catalogue):
    operator = service("operator")
    # A text's size is its JSON: the two quotes count.
    fits = "x" * (MAX_PARAMETER_BYTES - 2)
    assert operator.post(TRIGGER, {"parameters": {"text": fits}}).status_code == 201
    response = operator.post(TRIGGER, {"parameters": {"text": fits + "x"}})
    assert response.status_code == 400 and response.json()["field"] == "parameters.text"
    assert str(MAX_PARAMETER_BYTES) in response.json()["error"]
    assert Run.objects.count() == 1


def test_a_parameter_size_counts_characters_as_the_worker_receives_them(service, catalogue):
    """Outside ASCII, a character travels as its \\uXXXX escape: six bytes."""
    response = service("operator").post(
        TRIGGER, {"parameters": {"text": "\u00e9" * (MAX_PARAMETER_BYTES // 6 + 1)}}
    )
    assert response.status_code == 400 and response.json()["field"] == "parameters.text"


def test_parameters_together_are_limited_too(service, wide):
    each = "x" * (MAX_PARAMETER_BYTES - 2)
    count = MAX_PARAMETERS_BYTES // MAX_PARAMETER_BYTES + 1
    assert count <= 5
    response = service("operator").post(
        "/api/projects/examples/jobs/wide/trigger",
        {"parameters": {f"p{index}": each for index in range(count)}},
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "parameters"
    assert str(MAX_PARAMETERS_BYTES) in response.json()["error"]
    assert Run.objects.count() == 0


# Declared bounds ------------------------------------------------------------------------------


@pytest.fixture
def bounded(catalogue) -> Job:
    return Job.objects.create(
        project=catalogue["project"], identifier="bounded", display_name="Bounded",
        steps=[{"name": "s", "command": ["seq", "{lines}"]}],
        parameters=[
            {"name": "lines", "required": False, "default": 10, "minimum": 1, "maximum": 1000},
            {"name": "branch", "required": False, "max_length": 5},
        ],
    )


@pytest.mark.parametrize(
    "parameters, field, message",
    [
        ({"lines": 0}, "parameters.lines", "from 1 to 1000"),
        ({"lines": 1001}, "parameters.lines", "from 1 to 1000"),
        ({"lines": 1000.5}, "parameters.lines", "from 1 to 1000"),
        ({"lines": "5"}, "parameters.lines", "must be a number"),
        ({"lines": True}, "parameters.lines", "must be a number"),
        ({"branch": "feature"}, "parameters.branch", "at most 5 characters"),
        ({"branch": 12}, "parameters.branch", "must be text"),
    ],
)
def test_declared_bounds_are_enforced_at_trigger_time(service, bounded, parameters, field, message):
    response = service("operator").post(
        "/api/projects/examples/jobs/bounded/trigger", {"parameters": parameters}
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field and message in response.json()["error"]
    assert Run.objects.count() == 0


def test_values_within_the_declared_bounds_are_taken(service, bounded):
    response = service("operator").post(
        "/api/projects/examples/jobs/bounded/trigger",
        {"parameters": {"lines": 1000, "branch": "main"}},
    )
    assert response.status_code == 201, response.content
    assert response.json()["parameters"] == {"lines": 1000, "branch": "main"}
