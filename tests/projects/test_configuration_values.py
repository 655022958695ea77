"""The configuration is checked with the same rules as every other entry (orchestra.values,
runs.parameters): what it would store can be stored on every database, shown back, and sent
to a worker in one message."""

import json

import pytest

from examples.configuration import projects as example_projects
from examples.configuration import resources as example_resources
from orchestra.audit import SYSTEM
from projects import models
from projects.configuration import (
    ConfigurationError,
    Element,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Schedule,
    Step,
    sync_projects,
    validate_configuration,
    validate_projects,
)
from projects.validation.steps import MAX_STEPS, MAX_STEPS_BYTES
from runs.actions import do_trigger_run
from runs.models import Run
from runs.parameters import MAX_PARAMETER_BYTES, MAX_PARAMETERS_BYTES
from workers.sync import run_request

STEPS = [Step("s", ["true"])]


def error_of(projects) -> str:
    with pytest.raises(ConfigurationError) as caught:
        validate_projects(projects)
    return str(caught.value)


def job_error(**fields) -> str:
    return error_of([Project("demo", jobs=[Job("j", **{"steps": STEPS, **fields})])])


# Identifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["abc\n", " abc", "a b", "a/b", "<script>", "-a", "é", "a" * 101, ""])
def test_every_identifier_follows_one_rule(identifier):
    element = Element(identifier, "j")
    schedule = Schedule(identifier, "j", "0 * * * *")
    for projects, where in [
        ([Project(identifier)], "project"),
        ([Project("demo", jobs=[Job(identifier, steps=STEPS)])], "job"),
        ([Project("demo", jobs=[Job("j", steps=STEPS)], schedules=[schedule])], "schedule"),
        ([Project("demo", jobs=[Job("j", steps=STEPS), PipelineJob("p", elements=[element])])],
         "element"),
    ]:
        message = error_of(projects)
        assert f"{where} " in message and "field 'identifier'" in message
        assert "is not an identifier (1 to 100 letters, digits, '-' and '_'" in message


# Text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [("a\ud800", "lone surrogate"), ("a\x00", "NUL")])
def test_texts_that_cannot_be_stored_are_refused(text, problem):
    assert problem in job_error(description=text)
    assert problem in job_error(display_name=text)
    assert problem in job_error(steps=[Step("s", ["echo", text])])
    assert problem in job_error(steps=[Step(text, ["true"])])
    assert problem in job_error(parameters=[Parameter("x", description=text)])
    assert problem in error_of([Project("demo", description=text)])


def test_texts_are_bounded_by_their_columns():
    assert "field 'display_name': must be at most 200 characters" in job_error(display_name="d" * 201)
    assert "field 'steps[0].name': must be at most 200 characters" in job_error(
        steps=[Step("n" * 201, ["true"])]
    )
    message = error_of([Project("demo", repository="r" * 501)])
    assert "field 'repository': must be at most 500 characters" in message


def test_a_step_name_is_one_line():
    assert "field 'steps[0].name': must be one line" in job_error(steps=[Step("a\nb", ["true"])])


# Steps: a run request fits in one WebSocket message ----------------------------------------


def test_steps_are_bounded_in_number_and_size():
    message = job_error(steps=[Step(f"s{index}", ["true"]) for index in range(MAX_STEPS + 1)])
    assert f"field 'steps': has {MAX_STEPS + 1} steps, more than the {MAX_STEPS} allowed" in message
    big = "x" * (MAX_STEPS_BYTES // 2)
    message = job_error(steps=[Step("a", ["echo", big]), Step("b", ["echo", big])])
    assert "field 'steps': the steps are" in message
    assert f"bytes as JSON, more than the {MAX_STEPS_BYTES} allowed" in message


@pytest.mark.django_db
def test_the_largest_run_request_fits_well_under_a_websocket_message():
    """Largest steps, largest parameters, longest identifiers: well under the 1 MiB daphne
    and the worker client take in one message, with room for the envelope."""
    name = "p" * 100
    count = MAX_PARAMETERS_BYTES // MAX_PARAMETER_BYTES
    # The largest steps the configuration takes, in characters that grow most on the wire.
    argument = "\u00e9" * ((MAX_STEPS_BYTES - 100) // 6)
    (validated,) = validate_projects([Project(name, jobs=[Job(
        name, steps=[Step("s", ["echo", argument])],
        parameters=[Parameter(f"p{index}") for index in range(count)],
    )])])
    sync_projects([validated])
    job = models.Job.objects.get(identifier=name)
    # As large as the limit of all parameters together lets them be.
    each = (MAX_PARAMETERS_BYTES - 16 * count) // count - 2
    run = do_trigger_run(job, {f"p{index}": "x" * each for index in range(count)}, SYSTEM)
    run = Run.objects.select_related("job", "project").get(pk=run.pk)
    offer = {"type": "run.start", "id": 2**31, "run": run.identifier, "request": run_request(run)}
    assert len(json.dumps(offer)) > MAX_PARAMETERS_BYTES + MAX_STEPS_BYTES - 1024
    assert len(json.dumps(offer)) < 3 * 1024 * 1024 // 4


# Parameters -----------------------------------------------------------------------------------


def parameter_error(parameter: Parameter) -> str:
    return job_error(parameters=[parameter])


def test_declared_bounds_are_kept():
    (validated,) = validate_projects([Project("demo", jobs=[Job("j", steps=STEPS, parameters=[
        Parameter("lines", default=10, minimum=1, maximum=1000),
        Parameter("branch", default="main", max_length=100),
        Parameter("free"),
    ])])])
    lines, branch, free = validated["jobs"][0]["parameters"]
    assert lines == {"name": "lines", "description": "", "required": False, "default": 10,
                     "minimum": 1, "maximum": 1000}
    assert branch["max_length"] == 100
    assert "minimum" not in free and "maximum" not in free and "max_length" not in free


@pytest.mark.parametrize(
    "parameter, message",
    [
        (Parameter("x", minimum="1"), "field 'parameters.x.minimum': must be a number"),
        (Parameter("x", maximum=True), "field 'parameters.x.maximum': must be a number"),
        (Parameter("x", maximum=float("inf")), "field 'parameters.x.maximum': is not a number JSON can hold (inf)"),
        (Parameter("x", minimum=5, maximum=1), "field 'parameters.x.minimum': is more than the maximum"),
        (Parameter("x", max_length=0), "field 'parameters.x.max_length': must be a whole number"),
        (Parameter("x", max_length=2.5), "field 'parameters.x.max_length': must be a whole number"),
        (Parameter("x", minimum=1, max_length=3), "field 'parameters.x': is either a number (minimum, maximum) or text (max_length)"),
        (Parameter("x", default=0, minimum=1), "field 'parameters.x.default': parameter 'x' must be at least 1"),
        (Parameter("x", default="long", max_length=3), "field 'parameters.x.default': parameter 'x' must be at most 3"),
        (Parameter("x", default=float("nan")), "field 'parameters.x.default': parameter 'x' is not a number JSON can hold (nan)"),
        (Parameter("x", default="\ud800"), "field 'parameters.x.default': parameter 'x' is not valid Unicode"),
        (Parameter("x", default="x" * MAX_PARAMETER_BYTES), f"more than the {MAX_PARAMETER_BYTES} allowed"),
    ],
)
def test_invalid_parameter_declarations(parameter, message):
    assert message in parameter_error(parameter)


def test_defaults_together_are_bounded():
    each = "x" * (MAX_PARAMETER_BYTES - 10)
    count = MAX_PARAMETERS_BYTES // MAX_PARAMETER_BYTES + 1
    message = job_error(parameters=[Parameter(f"p{index}", default=each) for index in range(count)])
    assert f"field 'parameters': the defaults are" in message
    assert f"more than the {MAX_PARAMETERS_BYTES} allowed" in message


def test_schedule_and_element_parameters_are_checked_like_a_trigger():
    job = Job("j", steps=STEPS, parameters=[Parameter("n", minimum=1, maximum=9), Parameter("t")])
    message = error_of([Project("demo", jobs=[job], schedules=[
        Schedule("s", "j", "0 * * * *", parameters={"n": 10, "t": "x"}),
    ])])
    assert "schedule 's', field 'parameters.n': parameter 'n' must be from 1 to 9" in message
    message = error_of([Project("demo", jobs=[job, PipelineJob("p", elements=[
        Element("e", "j", parameters={"t": "a\x00"}),
    ])])])
    assert "element 'e', field 'parameters.t'" in message and "NUL" in message


# Properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"os": "a\ud800"}, "lone surrogate"),
        ({"os": "v" * 1001}, "must be at most 1000 characters"),
        ({"n" * 101: "v"}, "must be at most 100 characters"),
        ({"": "v"}, "must not be empty"),
        ({"os": "linux\n"}, "must be one line"),
        ({f"p{index}": "v" for index in range(51)}, "more than the 50 allowed"),
        ({"cores": 4}, "must be text"),
    ],
)
def test_job_properties_follow_the_workers_rule(properties, message):
    assert message in job_error(properties=properties)


def test_the_examples_bound_their_parameters():
    (examples,), _ = validate_configuration(example_projects, example_resources)
    jobs = {job["identifier"]: job for job in examples["jobs"]}
    (lines,) = jobs["log-flood"]["parameters"]
    assert (lines["minimum"], lines["maximum"]) == (1, 10_000_000)
    assert all("minimum" in parameter for parameter in jobs["slow-count"]["parameters"])
    assert jobs["echo"]["parameters"][0]["max_length"] == 1000
