"""Hooks in the configuration: checked at master start naming project, hook and field, written
to the database; payload paths read a field and nothing else (docs/configuration.md, "Hooks")."""

import pytest

from projects import models
from projects.configuration import (
    ConfigurationError,
    Element,
    Hook,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Step,
    sync_projects,
    validate_configuration,
    validate_projects,
)
from projects.hooks import PayloadFieldMissing, parameters_from_payload, payload_field

BUILD = Job(
    "build", steps=[Step("build", ["make", "{revision}"])],
    parameters=[Parameter("revision", required=True), Parameter("branch", default="main")],
)
VARIABLE = "ORCHESTRA_HOOK_SECRET_PUSH"


def project(*hooks: Hook) -> Project:
    flow = PipelineJob("flow", elements=[Element("b", "build", parameters={"revision": "v1"})])
    return Project("demo", jobs=[BUILD, flow], hooks=list(hooks))


def errors_of(*hooks: Hook) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        validate_projects([project(*hooks)])
    return caught.value.errors


def test_a_hook_is_validated_into_plain_data():
    hook = Hook("push", VARIABLE, jobs={"build": {"revision": "after", "branch": "ref"}, "flow": {}})
    [validated] = validate_projects([project(hook)])
    assert validated["hooks"] == [{
        "identifier": "push", "secret_variable": VARIABLE,
        "jobs": {"build": {"revision": "after", "branch": "ref"}, "flow": {}},
    }]


def test_the_example_hook_runs_echo_with_the_payloads_text():
    from examples.configuration import projects, resources

    [examples], _ = validate_configuration(projects, resources)
    assert examples["hooks"] == [{
        "identifier": "echo", "secret_variable": "ORCHESTRA_HOOK_SECRET_ECHO",
        "jobs": {"echo": {"text": "text"}},
    }]


@pytest.mark.parametrize("hook, error", [
    (Hook("push", VARIABLE, jobs={"deploy": {}}),
     "project 'demo', hook 'push', field 'jobs': unknown job 'deploy'"),
    (Hook("push", VARIABLE, jobs={"build": {"revision": "after", "tag": "ref"}}),
     "project 'demo', hook 'push', field 'jobs.build': unknown parameter 'tag'"),
    (Hook("push", VARIABLE, jobs={"build": {"branch": "ref"}}),
     "project 'demo', hook 'push', field 'jobs.build': the job's required parameter 'revision' is "
     "not taken from the payload"),
    (Hook("push", VARIABLE, jobs={"build": {"revision": "head_commit..id"}}),
     "project 'demo', hook 'push', field 'jobs.build.revision': 'head_commit..id' is not a payload "
     "path (1 to 20 keys or list indexes joined by dots, each 1 to 100 letters, digits, '_' or '-')"),
    (Hook("push", VARIABLE, jobs={"build": {"revision": "commits[0]"}}),
     "project 'demo', hook 'push', field 'jobs.build.revision': 'commits[0]' is not a payload path "
     "(1 to 20 keys or list indexes joined by dots, each 1 to 100 letters, digits, '_' or '-')"),
    (Hook("push", VARIABLE, jobs={"build": ["after"]}),
     "project 'demo', hook 'push', field 'jobs.build': must be a dict {parameter: payload path}"),
    (Hook("push", VARIABLE, jobs={}),
     "project 'demo', hook 'push', field 'jobs': must be a dict {job: {parameter: payload path}} "
     "naming a job"),
    (Hook("push", "MY SECRET", jobs={"flow": {}}),
     "project 'demo', hook 'push', field 'secret_variable': 'MY SECRET' is not an environment "
     "variable's name (1 to 100 letters, digits and '_', not starting with a digit)"),
    (Hook("push", "", jobs={"flow": {}}),
     "project 'demo', hook 'push', field 'secret_variable': '' is not an environment variable's "
     "name (1 to 100 letters, digits and '_', not starting with a digit)"),
    (Hook("push/main", VARIABLE, jobs={"flow": {}}),
     "project 'demo', hook 'push/main', field 'identifier': not an identifier (1 to 100 letters, "
     "digits, '-' and '_', starting with a letter or a digit)"),
])
def test_a_wrong_hook_stops_the_master_naming_project_hook_and_field(hook, error):
    assert errors_of(hook) == [error]


def test_duplicate_hooks_and_things_that_are_not_hooks_are_refused():
    hook = Hook("push", VARIABLE, jobs={"flow": {}})
    assert errors_of(hook, hook) == ["project 'demo', hook 'push', field 'identifier': duplicate hook"]
    with pytest.raises(ConfigurationError) as caught:
        validate_projects([Project("demo", hooks=["push"])])
    assert caught.value.errors == ["project 'demo', field 'hooks[0]': must be a Hook, got str"]


@pytest.mark.database
@pytest.mark.django_db
def test_sync_writes_hooks_and_marks_removed_ones_unconfigured():
    hook = Hook("push", VARIABLE, jobs={"build": {"revision": "after"}})
    report = sync_projects(validate_projects([project(hook)]))
    assert "hook demo/push" in report.created
    row = models.Hook.objects.get()
    assert (row.secret_variable, row.jobs, row.is_configured) == (
        VARIABLE, {"build": {"revision": "after"}}, True,
    )
    changed = Hook("push", VARIABLE, jobs={"build": {"revision": "head_commit.id"}})
    assert sync_projects(validate_projects([project(changed)])).updated == ["hook demo/push"]
    assert sync_projects(validate_projects([project()])).removed == ["hook demo/push"]
    row.refresh_from_db()
    assert row.jobs == {"build": {"revision": "head_commit.id"}} and not row.is_configured
    sync_projects(validate_projects([project(changed)]))
    row.refresh_from_db()
    assert row.is_configured


PUSH = {
    "ref": "refs/heads/main",
    "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    "head_commit": {"id": "0d1a26e6", "author": {"name": "Ada"}},
    "commits": [{"id": "first"}, {"id": "second"}],
    "0": "a key of digits",
    "forced": False,
}


@pytest.mark.parametrize("path, value", [
    ("ref", "refs/heads/main"),
    ("head_commit.author.name", "Ada"),
    ("commits.1.id", "second"),
    ("0", "a key of digits"),
    ("forced", False),
    ("head_commit", {"id": "0d1a26e6", "author": {"name": "Ada"}}),
])
def test_a_path_reads_keys_and_list_items(path, value):
    assert payload_field(PUSH, path) == value


@pytest.mark.parametrize("path", [
    "before", "head_commit.message", "commits.2.id", "commits.-1", "commits.id", "ref.0",
    "forced.x", "__class__", "ref.__len__",
])
def test_a_path_to_nothing_is_missing(path):
    with pytest.raises(KeyError):
        payload_field(PUSH, path)


def test_parameters_from_a_payload_name_the_missing_field():
    jobs = {"build": {"revision": "after", "branch": "ref"}, "flow": {}}
    assert parameters_from_payload(jobs, PUSH) == {
        "build": {"revision": PUSH["after"], "branch": "refs/heads/main"}, "flow": {},
    }
    with pytest.raises(PayloadFieldMissing) as caught:
        parameters_from_payload({"build": {"revision": "pull_request.head.sha"}}, PUSH)
    assert (caught.value.field, caught.value.message) == (
        "payload.pull_request.head.sha",
        "the payload has no field 'pull_request.head.sha' (parameter 'revision' of job 'build')",
    )
