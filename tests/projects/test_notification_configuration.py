"""Notifications in the configuration: validated at master start (naming project, job and
field, including what the master itself lacks to send them) and stored with the project and
the job."""

import pytest

from projects import models
from projects.configuration import (
    ConfigurationError,
    Email,
    Job,
    PipelineJob,
    Project,
    Step,
    Webhook,
    Element,
    sync_projects,
    validate_projects,
)

STEPS = [Step("s", ["true"])]
SECRET_VARIABLE = "ORCHESTRA_TEST_NOTIFICATION_SECRET"


@pytest.fixture(autouse=True)
def master_can_notify(settings, monkeypatch):
    settings.PUBLIC_URL = "https://orchestra.example.com"
    settings.EMAIL_HOST = "smtp.example.com"
    monkeypatch.setenv(SECRET_VARIABLE, "s3cret")


def error_of(projects) -> str:
    with pytest.raises(ConfigurationError) as caught:
        validate_projects(projects)
    return str(caught.value)


def webhook(**fields) -> Webhook:
    return Webhook(**{"url": "https://hooks.example.com/x", "secret_variable": SECRET_VARIABLE,
                      **fields})


def test_a_project_and_a_job_declare_notifications_stored_as_plain_data():
    [project] = validate_projects([Project(
        "demo",
        notifications=[Email(["ops@example.com"], on="changes")],
        jobs=[
            Job("j", steps=STEPS, notifications=[webhook(on="all")]),
            PipelineJob("p", elements=[Element("a", "j")],
                        notifications=[Email("lead@example.com")]),
        ],
    )])
    assert project["notifications"] == [
        {"kind": "email", "to": ["ops@example.com"], "on": "changes"}]
    jobs = {job["identifier"]: job for job in project["jobs"]}
    assert jobs["j"]["notifications"] == [{
        "kind": "webhook", "url": "https://hooks.example.com/x",
        "secret_variable": SECRET_VARIABLE, "on": "all",
    }]
    # Failures are the default rule; one address may be given alone.
    assert jobs["p"]["notifications"] == [
        {"kind": "email", "to": ["lead@example.com"], "on": "failures"}]


@pytest.mark.django_db
def test_the_notifications_are_written_to_the_database_and_follow_the_configuration():
    declared = [Project("demo", notifications=[Email(["ops@example.com"])],
                        jobs=[Job("j", steps=STEPS, notifications=[webhook()])])]
    sync_projects(validate_projects(declared))
    job = models.Job.objects.select_related("project").get(identifier="j")
    assert job.project.notifications == [{"kind": "email", "to": ["ops@example.com"], "on": "failures"}]
    assert [n["url"] for n in job.notifications] == ["https://hooks.example.com/x"]

    sync_projects(validate_projects([Project("demo", jobs=[Job("j", steps=STEPS)])]))
    job = models.Job.objects.select_related("project").get(identifier="j")
    assert (job.project.notifications, job.notifications) == ([], [])


@pytest.mark.parametrize("notification, field, message", [
    (webhook(url="ftp://hooks.example.com/x"), "notifications[0].url", "http:// or https://"),
    (webhook(url="https:///no-host"), "notifications[0].url", "http:// or https://"),
    (webhook(url="https://example.com:port/x"), "notifications[0].url", "http:// or https://"),
    (webhook(url=None), "notifications[0].url", "http:// or https://"),
    (webhook(url="https://example.com/a b"), "notifications[0].url", "http:// or https://"),
    (webhook(url="https://example.com/" + "x" * 2000), "notifications[0].url", "at most 2000"),
    (webhook(secret_variable="NOT A NAME"), "notifications[0].secret_variable", "environment variable"),
    (webhook(secret_variable="ORCHESTRA_TEST_UNSET_SECRET"), "notifications[0].secret_variable",
     "ORCHESTRA_TEST_UNSET_SECRET that holds the secret is not set"),
    (webhook(on="sometimes"), "notifications[0].on", "'all', 'failures', 'changes'"),
    (Email([]), "notifications[0].to", "e-mail addresses"),
    (Email(["ops@example.com", "not an address"]), "notifications[0].to[1]",
     "'not an address' is not an e-mail address"),
    (Email(["ops@example.com"] * 51), "notifications[0].to", "1 to 50 e-mail addresses"),
    (Email(["ops@example.com"], on="success"), "notifications[0].on", "'all', 'failures', 'changes'"),
    ("https://hooks.example.com", "notifications[0]", "must be a Webhook or an Email, got str"),
])
def test_a_wrong_notification_stops_the_master_naming_project_job_and_field(notification, field, message):
    for projects, where in [
        ([Project("demo", notifications=[notification])], "project 'demo', field"),
        ([Project("demo", jobs=[Job("j", steps=STEPS, notifications=[notification])])],
         "project 'demo', job 'j', field"),
    ]:
        error = error_of(projects)
        assert f"{where} {field!r}" in error and message in error, error


def test_notifications_need_the_public_address_of_the_run_pages(settings):
    settings.PUBLIC_URL = ""
    error = error_of([Project("demo", jobs=[Job("j", steps=STEPS, notifications=[webhook()])])])
    assert "job 'j', field 'notifications[0]': notifications link to the run's page: set ORCHESTRA_PUBLIC_URL" in error


def test_mail_needs_an_smtp_server(settings):
    settings.EMAIL_HOST = ""
    error = error_of([Project("demo", notifications=[Email(["ops@example.com"])])])
    assert "field 'notifications[0]': e-mail is sent through an SMTP server: set ORCHESTRA_EMAIL_HOST" in error
