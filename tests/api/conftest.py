import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from orchestra.tokens import create_token
from projects.models import Hook, Job, Project, Schedule
from runs.models import Run, RunStep, Status
from workers.models import Worker

ROLES = ["viewer", "operator", "auditor", "administrator", "worker"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A million PBKDF2 iterations per login would make these tests crawl on 2 cores; the
    production hasher has its own test (tests/orchestra/test_login.py)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class ServiceClient:
    """A test client that sends one user's bearer token on every request."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, data=None, **extra):
        return self.client.get(path, data, headers=self.headers, **extra)

    def post(self, path, data=None, **extra):
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self.headers, **extra
        )

    def put(self, path, data=None):
        return self.client.put(path, data or {}, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


def make_user(username: str, *role_names: str) -> tuple[User, str]:
    user = User.objects.create_user(username, password="correct horse battery")
    user.groups.set(Group.objects.filter(name__in=role_names))
    _, value = create_token(user, description=f"{username} test token")
    return user, value


@pytest.fixture
def users(db) -> dict[str, tuple[User, str]]:
    return {role: make_user(f"{role}-user", role) for role in ROLES}


@pytest.fixture
def service(users):
    """service("operator") is a client authenticated as the operator; service(None) anonymous."""

    def client(role: str | None) -> ServiceClient:
        return ServiceClient(users[role][1] if role else None)

    return client


@pytest.fixture
def catalogue(db, users) -> dict:
    """A project with a plain job, a job with a required parameter, a schedule, a hook that
    triggers the job with the payload's `text` and a worker."""
    project = Project.objects.create(identifier="examples", display_name="Examples")
    other = Project.objects.create(identifier="other", display_name="Other")
    hello = Job.objects.create(
        project=project, identifier="hello", display_name="Hello",
        steps=[{"name": "greet", "command": ["echo", "hello"]}],
    )
    echo = Job.objects.create(
        project=project, identifier="echo", display_name="Echo",
        steps=[{"name": "echo", "command": ["echo", "{text}"]}],
        parameters=[{"name": "text", "required": True}],
    )
    lone = Job.objects.create(project=other, identifier="lone", display_name="Lone", steps=[])
    schedule = Schedule.objects.create(
        project=project, identifier="hello-hourly", job=hello, expression="0 * * * *"
    )
    hook = Hook.objects.create(
        project=project, identifier="echo", secret_variable="ORCHESTRA_HOOK_SECRET_ECHO",
        jobs={"echo": {"text": "text"}},
    )
    worker = Worker.objects.create(
        identifier="worker-1", owner=users["worker"][0], properties={"os": "linux"}
    )
    return {
        "project": project, "other": other, "hello": hello, "echo": echo, "lone": lone,
        "schedule": schedule, "hook": hook, "worker": worker,
    }


def make_run(job, status=Status.SUCCEEDED, results=None, worker=None, steps=1, **fields) -> Run:
    run = Run.objects.create(
        project=job.project, job=job, status=status, results=results or {}, worker=worker, **fields
    )
    RunStep.objects.bulk_create(
        RunStep(run=run, index=index, name=f"step-{index}", status=status) for index in range(steps)
    )
    return run
