import pytest

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
    load_configuration,
    sync_projects,
    validate_configuration,
    validate_projects,
)

pytestmark = pytest.mark.database

HELLO = Job("hello", steps=[Step("greet", ["echo", "hello {who}"])], parameters=[Parameter("who", default="you")])


def project(jobs=None, schedules=None, **fields):
    return Project("demo", jobs=[HELLO] if jobs is None else jobs, schedules=schedules or [], **fields)


def error_of(projects) -> str:
    with pytest.raises(ConfigurationError) as caught:
        validate_projects(projects)
    return str(caught.value)


def pipeline(*elements):
    return project(jobs=[HELLO, PipelineJob("flow", elements=list(elements))])


def test_example_configuration_is_valid():
    from examples.configuration import projects, resources

    (examples,), declared = validate_configuration(projects, resources)
    jobs = {job["identifier"]: job for job in examples["jobs"]}
    assert sorted(jobs) == sorted([
        "hello", "noop", "results", "fail", "log-flood", "slow-count", "echo", "results-chain",
        "special-pool", "sleepy", "silent", "flaky", "exclusive", "deploy-a", "deploy-b", "kept", "append",
        "show-secret",
        "pipeline-diamond", "pipeline-failure",
    ])
    assert declared == [{"identifier": "deploy-prod", "capacity": 1}]
    assert (jobs["sleepy"]["timeout"], jobs["silent"]["silence_timeout"]) == (3, 2)
    assert {name: jobs["flaky"][name] for name in ("retries", "retry_on", "retry_delay")} == {
        "retries": 2, "retry_on": ["failed"], "retry_delay": 1}
    assert jobs["exclusive"]["max_concurrent_runs"] == 1
    assert jobs["deploy-a"]["resources"] == jobs["deploy-b"]["resources"] == ["deploy-prod"]
    assert jobs["kept"]["keep_runs"] == 3
    assert jobs["special-pool"]["properties"] == {"pool": "special"}
    assert jobs["log-flood"]["parameters"][0]["default"] == 100000
    assert examples["schedules"][0]["identifier"] == "hello-hourly"


def test_invalid_project_identifier():
    assert "project 'bad name', field 'identifier'" in error_of([Project("bad name")])


def test_duplicate_project():
    assert "duplicate project" in error_of([project(), project()])


def test_projects_must_be_a_list_of_project():
    assert "projects[0]" in error_of([{"identifier": "demo"}])
    with pytest.raises(ConfigurationError):
        validate_projects("demo")


def test_unknown_repository_provider():
    message = error_of([project(repository="x", repository_provider="svn")])
    assert "project 'demo', field 'repository_provider': unknown provider 'svn'" in message
    (validated,) = validate_projects([project(repository="https://example.com/demo.git")])
    assert validated["repository_provider"] == "git"
    (validated,) = validate_projects([project()])
    assert validated["repository_provider"] == ""


def test_invalid_job_identifier():
    message = error_of([project(jobs=[Job("no/slash", steps=[Step("s", ["true"])])])])
    assert "project 'demo', job 'no/slash', field 'identifier'" in message


def test_duplicate_job():
    assert "job 'hello', field 'identifier': duplicate job" in error_of([project(jobs=[HELLO, HELLO])])


def test_job_without_steps():
    assert "job 'empty', field 'steps'" in error_of([project(jobs=[Job("empty")])])


def test_command_must_be_a_list_of_strings():
    message = error_of([project(jobs=[Job("shell", steps=[Step("s", "echo hi")])])])
    assert "job 'shell', field 'steps[0].command': must be a non-empty list of strings" in message
    message = error_of([project(jobs=[Job("number", steps=[Step("s", ["sleep", 1])])])])
    assert "field 'steps[0].command'" in message


def test_command_with_invalid_format_string():
    message = error_of([project(jobs=[Job("brace", steps=[Step("s", ["echo", "{"])])])])
    assert "field 'steps[0].command': invalid format string" in message


def test_step_without_name():
    message = error_of([project(jobs=[Job("noname", steps=[Step("", ["true"])])])])
    assert "field 'steps[0].name'" in message


def test_invalid_parameters():
    def job(*parameters):
        return [project(jobs=[Job("p", steps=[Step("s", ["true"])], parameters=list(parameters))])]

    assert "field 'parameters[0].name'" in error_of(job(Parameter("not-python")))
    assert "field 'parameters.x': duplicate parameter" in error_of(job(Parameter("x"), Parameter("x")))
    assert "field 'parameters.results': this name is reserved" in error_of(job(Parameter("results")))
    assert "field 'parameters.x.default'" in error_of(job(Parameter("x", default=[1])))
    assert "a required parameter has no default" in error_of(job(Parameter("x", default=1, required=True)))
    assert "field 'parameters[0]'" in error_of(job({"name": "x"}))


def test_properties_must_be_strings():
    message = error_of([project(jobs=[Job("p", steps=[Step("s", ["true"])], properties={"cores": 4})])])
    assert "job 'p', field 'properties.cores': must be text" in message


def test_pipeline_unknown_job():
    message = error_of([pipeline(Element("a", "nowhere"))])
    assert "job 'flow', element 'a', field 'job': unknown job 'nowhere'" in message


def test_pipeline_cannot_nest():
    nested = project(jobs=[HELLO, PipelineJob("inner", elements=[Element("a", "hello")]),
                           PipelineJob("outer", elements=[Element("x", "inner")])])
    assert "pipelines do not nest" in error_of([nested])


def test_pipeline_unknown_element():
    message = error_of([pipeline(Element("a", "hello", after=["ghost"]))])
    assert "element 'a', field 'after': unknown element 'ghost'" in message


def test_pipeline_duplicate_element():
    message = error_of([pipeline(Element("a", "hello"), Element("a", "hello"))])
    assert "element 'a', field 'identifier': duplicate element" in message


def test_pipeline_unknown_status():
    message = error_of([pipeline(Element("a", "hello"), Element("b", "hello", after={"a": ["done"]}))])
    assert "element 'b', field 'after.a': unknown status 'done'" in message


def test_pipeline_cycle():
    message = error_of([pipeline(
        Element("a", "hello", after=["c"]), Element("b", "hello", after=["a"]), Element("c", "hello", after=["b"])
    )])
    assert "job 'flow', field 'elements': dependency cycle" in message
    assert "depend on itself" in error_of([pipeline(Element("a", "hello", after=["a"]))])


def test_pipeline_element_parameters_checked_against_job():
    message = error_of([pipeline(Element("a", "hello", parameters={"whom": "x"}))])
    assert "element 'a', field 'parameters.whom': unknown parameter 'whom'" in message


def test_pipeline_without_elements():
    assert "job 'flow', field 'elements'" in error_of([pipeline()])


def test_pipeline_rules_normalized():
    (validated,) = validate_projects([pipeline(
        Element("a", "hello"), Element("b", "hello", after=["a"]), Element("c", "hello", after={"b": ["any"]})
    )])
    elements = validated["jobs"][1]["pipeline"]["elements"]
    assert elements[1]["after"] == {"a": ["succeeded"]}
    assert set(elements[2]["after"]["b"]) == {"succeeded", "failed", "aborted", "exception", "cancelled", "skipped"}


def test_schedule_invalid_cron():
    message = error_of([project(schedules=[Schedule("nightly", "hello", "every night")])])
    assert "project 'demo', schedule 'nightly', field 'cron': invalid cron expression" in message


def test_schedule_unknown_timezone():
    message = error_of([project(schedules=[Schedule("nightly", "hello", "0 0 * * *", timezone="Mars/Olympus")])])
    assert "schedule 'nightly', field 'timezone': unknown timezone" in message


def test_schedule_unknown_job():
    message = error_of([project(schedules=[Schedule("nightly", "ghost", "0 0 * * *")])])
    assert "schedule 'nightly', field 'job': unknown job 'ghost'" in message


def test_schedule_parameters_checked_against_job():
    message = error_of([project(schedules=[Schedule("nightly", "hello", "0 0 * * *", parameters={"x": 1})])])
    assert "schedule 'nightly', field 'parameters.x': unknown parameter" in message


def test_duplicate_schedule():
    schedule = Schedule("nightly", "hello", "0 0 * * *")
    assert "duplicate schedule" in error_of([project(schedules=[schedule, schedule])])


def test_every_error_is_reported_at_once():
    with pytest.raises(ConfigurationError) as caught:
        validate_projects([project(jobs=[Job("a"), Job("b")])])
    assert len(caught.value.errors) == 2


@pytest.mark.django_db
def test_sync_creates_updates_and_disables():
    schedule = Schedule("nightly", "hello", "0 0 * * *")
    report = sync_projects(validate_projects([project(schedules=[schedule])]))
    assert sorted(report.created) == ["job demo/hello", "project demo", "schedule demo/nightly"]
    job = models.Job.objects.get(identifier="hello")
    assert job.steps == [{"name": "greet", "command": ["echo", "hello {who}"]}]
    assert job.parameters == [{"name": "who", "description": "", "required": False, "default": "you"}]

    # Unchanged: nothing written.
    report = sync_projects(validate_projects([project(schedules=[schedule])]))
    assert report.created == report.updated == report.removed == []

    # Changed description, new job, schedule removed.
    changed = Job("hello", steps=HELLO.steps, parameters=HELLO.parameters, description="new")
    other = Job("other", steps=[Step("s", ["true"])])
    report = sync_projects(validate_projects([project(jobs=[changed, other])]))
    assert report.updated == ["job demo/hello"]
    assert report.created == ["job demo/other"]
    assert report.removed == ["schedule demo/nightly"]
    old_schedule = models.Schedule.objects.get(identifier="nightly")
    assert not old_schedule.is_configured and not old_schedule.is_enabled
    assert models.Job.objects.get(identifier="hello").description == "new"


@pytest.mark.django_db
def test_sync_keeps_removed_jobs_with_their_runs():
    from orchestra.audit import SYSTEM
    from runs.actions import do_trigger_run

    sync_projects(validate_projects([project()]))
    run = do_trigger_run(models.Job.objects.get(identifier="hello"), {}, SYSTEM)
    report = sync_projects(validate_projects([Project("other")]))
    assert "job demo/hello" in report.removed and "project demo" in report.removed
    job = models.Job.objects.get(identifier="hello")
    assert not job.is_configured and not job.is_enabled and not job.can_be_triggered
    assert job.runs.get() == run
    assert not models.Project.objects.get(identifier="demo").is_configured

    # Back in the configuration: configured and enabled again.
    sync_projects(validate_projects([project()]))
    job.refresh_from_db()
    assert job.is_configured and job.is_enabled


@pytest.mark.django_db
def test_sync_keeps_administrators_choice_unless_configuration_disables():
    sync_projects(validate_projects([project()]))
    models.Job.objects.filter(identifier="hello").update(is_enabled=False)
    sync_projects(validate_projects([project()]))
    assert not models.Job.objects.get(identifier="hello").is_enabled
    models.Job.objects.filter(identifier="hello").update(is_enabled=True)
    disabled = Job("hello", steps=HELLO.steps, parameters=HELLO.parameters, enabled=False)
    sync_projects(validate_projects([project(jobs=[disabled])]))
    assert not models.Job.objects.get(identifier="hello").is_enabled


@pytest.mark.django_db
def test_load_configuration_of_examples():
    report = load_configuration("examples.configuration")
    assert "job examples/pipeline-diamond" in report.created
    schedule = models.Schedule.objects.get(identifier="hello-hourly")
    assert schedule.job.identifier == "hello" and schedule.expression == "0 * * * *"
    again = load_configuration("examples.configuration")
    assert again.created == again.updated == again.removed == []


def test_load_configuration_of_missing_module():
    with pytest.raises(ConfigurationError, match="ORCHESTRA_CONFIGURATION: cannot import 'no.such.module'"):
        load_configuration("no.such.module")


def test_check_configuration_command():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("check_configuration", "examples.configuration", stdout=out)
    assert "examples.configuration: 1 projects" in out.getvalue() and "valid" in out.getvalue()
    with pytest.raises(CommandError, match="cannot load `projects` from 'tests.projects'"):
        call_command("check_configuration", "tests.projects")


def test_bounds_are_validated_naming_the_job_and_field():
    bad = Job(
        "bad", steps=[Step("s", ["true"], timeout=-1)], timeout="soon", silence_timeout=0,
        retries=-1, retry_on=["aborted"], retry_delay=-5, max_concurrent_runs=1.5,
        resources=["nowhere"], priority=5000, keep_runs=0, keep_days="week",
    )
    message = error_of([project(jobs=[bad])])
    for field_name in ("steps[0].timeout", "timeout", "silence_timeout", "retries", "retry_on",
                       "retry_delay", "max_concurrent_runs", "resources", "priority",
                       "keep_runs", "keep_days"):
        assert f"project 'demo', job 'bad', field '{field_name}'" in message, field_name
    assert "unknown resource 'nowhere'" in message


def test_resources_are_validated_and_synced(db):
    from projects.configuration import Resource
    from runs.models import Resource as ResourceRow

    with pytest.raises(ConfigurationError) as error:
        validate_configuration([], [Resource("db", capacity=0), Resource("db"), Resource("bad name")])
    assert "resource 'db', field 'capacity'" in str(error.value)
    assert "resource 'db', field 'identifier': duplicate resource" in str(error.value)
    sync_projects(*validate_configuration([project()], [Resource("db", capacity=2)]))
    sync_projects(*validate_configuration([project()], [Resource("db", capacity=3), Resource("gpu")]))
    assert list(ResourceRow.objects.values_list("identifier", "capacity", "is_configured")) == [
        ("db", 3, True), ("gpu", 1, True)]
    sync_projects(*validate_configuration([project()], []))
    assert list(ResourceRow.objects.values_list("is_configured", flat=True)) == [False, False]
