"""Secrets in the configuration: declared with where their value lives, read at master start,
never stored; a job that needs one the master cannot read stops the start, or is disabled."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from orchestra.audit import Actor
from projects.actions import JobCannotBeEnabled, set_job_enabled
from projects.configuration import load_configuration
from projects.definitions import Job, Project, Secret, Step
from projects.models import Job as JobRow
from projects.secrets import SecretUnavailable, SecretValues, reveal
from projects.validation import ConfigurationError, validate_configuration

TOKEN = Secret("api-token", environment="TEST_API_TOKEN")


def job_with(secrets: dict, identifier: str = "deploy") -> Job:
    return Job(identifier, steps=[Step("deploy", ["true"])], secrets=secrets)


def validate(*jobs: Job, environ: dict | None = None) -> tuple[list[dict], SecretValues]:
    values = SecretValues({} if environ is None else environ)
    (project,), _ = validate_configuration([Project("shop", jobs=list(jobs))], secrets=values)
    return project["jobs"], values


def errors_of(*jobs: Job, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigurationError) as raised:
        validate(*jobs, environ=environ)
    return raised.value.errors


def test_a_job_keeps_which_variable_gets_which_secret_and_the_master_reads_the_value():
    (job,), values = validate(job_with({"TOKEN": TOKEN}), environ={"TEST_API_TOKEN": "s3cr3t"})
    assert job["secrets"] == {"TOKEN": "api-token"}
    assert job["disabled_reason"] == ""
    assert values.values == {"api-token": "s3cr3t"}
    assert "s3cr3t" not in repr(job)


def test_a_required_secret_the_master_cannot_read_is_an_error_naming_the_job_and_the_secret():
    assert errors_of(job_with({"TOKEN": TOKEN})) == [
        "project 'shop', job 'deploy', field 'secrets.TOKEN': the master has no secret "
        "'api-token' (the variable TEST_API_TOKEN is not set)"
    ]


def test_an_empty_variable_is_no_secret():
    assert errors_of(job_with({"TOKEN": TOKEN}), environ={"TEST_API_TOKEN": ""}) == [
        "project 'shop', job 'deploy', field 'secrets.TOKEN': the master has no secret "
        "'api-token' (the variable TEST_API_TOKEN is empty)"
    ]


def test_an_optional_secret_the_master_cannot_read_disables_its_job_with_the_reason():
    optional = Secret("api-token", environment="TEST_API_TOKEN", required=False)
    (job,), _ = validate(job_with({"TOKEN": optional}))
    assert job["disabled_reason"] == (
        "the master has no secret 'api-token' (the variable TEST_API_TOKEN is not set)"
    )


def test_a_secret_is_read_from_a_file_without_its_final_newline(tmp_path):
    path = tmp_path / "key"
    path.write_text("line one\nline two\n")
    secret = Secret("deploy-key", file=str(path))
    _, values = validate(job_with({"KEY": secret}))
    assert values.values == {"deploy-key": "line one\nline two"}


def test_a_secret_file_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    secret = Secret("deploy-key", file=str(tmp_path / "missing"))
    assert errors_of(job_with({"KEY": secret})) == [
        "project 'shop', job 'deploy', field 'secrets.KEY': the master has no secret "
        f"'deploy-key' (the file {tmp_path / 'missing'} cannot be read (No such file or directory))"
    ]


def test_a_secret_longer_than_4096_bytes_is_refused_without_showing_it():
    errors = errors_of(job_with({"TOKEN": TOKEN}), environ={"TEST_API_TOKEN": "x" * 4097})
    assert errors == [
        "project 'shop', job 'deploy', field 'secrets.TOKEN': the master has no secret "
        "'api-token' (the variable TEST_API_TOKEN is longer than 4096 bytes)"
    ]


@pytest.mark.parametrize(
    ("secrets", "error"),
    [
        ({"TOKEN": Secret("api-token")},
         "field 'secrets.TOKEN': give either `environment` (a variable's name) or `file` (a path)"),
        ({"TOKEN": Secret("api-token", environment="A", file="/b")},
         "field 'secrets.TOKEN': give either `environment` (a variable's name) or `file` (a path)"),
        ({"TOKEN": Secret("api token", environment="A")},
         "field 'secrets.TOKEN.identifier': 'api token' is not an identifier"),
        ({"TOKEN": Secret("api-token", environment="NOT-A-NAME")},
         "field 'secrets.TOKEN.environment': 'NOT-A-NAME' is not an environment variable's name"),
        ({"1TOKEN": TOKEN}, "field 'secrets (a variable name)': '1TOKEN' is not an environment variable's name"),
        ({"ORCHESTRA_TOKEN": TOKEN},
         "field 'secrets.ORCHESTRA_TOKEN': names starting with ORCHESTRA_ are Orchestra's own"),
        ({"TOKEN": "api-token"}, "field 'secrets.TOKEN': must be a Secret, got 'api-token'"),
        (["TOKEN"], "field 'secrets': must be a dict of environment variable names to Secret"),
    ],
)
def test_a_wrong_declaration_is_an_error_naming_the_field(secrets, error):
    (message,) = errors_of(job_with(secrets), environ={"TEST_API_TOKEN": "s3cr3t", "A": "a"})
    assert message.startswith(f"project 'shop', job 'deploy', {error}")


def test_one_secret_declared_twice_differently_is_an_error():
    other = Secret("api-token", environment="OTHER_TOKEN")
    errors = errors_of(
        job_with({"TOKEN": TOKEN}, "a"), job_with({"TOKEN": other}, "b"),
        environ={"TEST_API_TOKEN": "s3cr3t", "OTHER_TOKEN": "other"},
    )
    assert errors == [
        "project 'shop', job 'b', field 'secrets.TOKEN': secret 'api-token' is declared twice, "
        "differently"
    ]


def test_two_jobs_may_share_one_secret_under_different_variables():
    jobs, values = validate(
        job_with({"TOKEN": TOKEN}, "a"), job_with({"API_TOKEN": TOKEN}, "b"),
        environ={"TEST_API_TOKEN": "s3cr3t"},
    )
    assert [job["secrets"] for job in jobs] == [{"TOKEN": "api-token"}, {"API_TOKEN": "api-token"}]


@pytest.fixture
def admin(db):
    return Actor(user=User.objects.create_user("root", password="a-long-password"))


@pytest.mark.database
def test_the_example_job_is_disabled_while_its_variable_is_unset_and_enabled_once_set(admin, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", raising=False)
    load_configuration("examples.configuration")
    job = JobRow.objects.get(identifier="show-secret")
    assert not job.is_enabled
    assert job.disabled_reason == (
        "the master has no secret 'example-token' "
        "(the variable ORCHESTRA_SECRET_EXAMPLE_TOKEN is not set)"
    )
    assert job.secrets == {"EXAMPLE_TOKEN": "example-token"}
    with pytest.raises(JobCannotBeEnabled, match="cannot be enabled: the master has no secret"):
        set_job_enabled(job, True, admin)
    assert not JobRow.objects.get(pk=job.pk).is_enabled

    monkeypatch.setenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", "tok-3141592653")
    load_configuration("examples.configuration")
    job = JobRow.objects.get(identifier="show-secret")
    assert job.is_enabled
    assert job.disabled_reason == ""
    assert reveal(job.secrets) == {"EXAMPLE_TOKEN": "tok-3141592653"}


@pytest.mark.database
def test_an_administrators_choice_to_disable_is_kept_when_the_secret_comes(admin, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", "tok-3141592653")
    load_configuration("examples.configuration")
    set_job_enabled(JobRow.objects.get(identifier="show-secret"), False, admin)
    load_configuration("examples.configuration")
    assert not JobRow.objects.get(identifier="show-secret").is_enabled


@pytest.mark.database
def test_secret_values_are_never_written_to_the_database(admin, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", "tok-3141592653")
    load_configuration("examples.configuration")
    if connection.vendor == "mongodb":
        rows = list(connection.get_collection("projects_job").find(
            {}, {"secrets": 1, "disabled_reason": 1, "steps": 1, "_id": 0}))
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT secrets, disabled_reason, steps FROM projects_job")
            rows = cursor.fetchall()
    assert rows and "tok-3141592653" not in repr(rows)


@pytest.mark.database
def test_a_master_that_does_not_hold_a_secret_cannot_reveal_it(admin, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", raising=False)
    load_configuration("examples.configuration")
    with pytest.raises(SecretUnavailable, match="the master has no secret 'example-token'"):
        reveal({"EXAMPLE_TOKEN": "example-token"})


def test_checking_the_configuration_says_which_jobs_the_master_would_disable(monkeypatch):
    monkeypatch.delenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", raising=False)
    out = io.StringIO()
    call_command("check_configuration", "examples.configuration", stdout=out)
    assert out.getvalue().splitlines()[1:] == [
        "job examples/show-secret will be disabled: the master has no secret 'example-token' "
        "(the variable ORCHESTRA_SECRET_EXAMPLE_TOKEN is not set)"
    ]
    monkeypatch.setenv("ORCHESTRA_SECRET_EXAMPLE_TOKEN", "tok-3141592653")
    out = io.StringIO()
    call_command("check_configuration", "examples.configuration", stdout=out)
    assert len(out.getvalue().splitlines()) == 1
