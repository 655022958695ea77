"""A populated installation for the website tests, and clients logged in with each role."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from orchestra.extensions import log_store
from orchestra.models import Token
from orchestra.tokens import create_token
from projects.models import Job, Project, Schedule
from runs.models import Run, RunStep, Status
from workers.models import Worker

XSS = "<script>alert(1)</script>"


def make_user(name: str, role: str) -> User:
    user = User.objects.create_user(name, password="a-long-password")
    user.groups.add(Group.objects.get(name=role))
    return user


def login(client, user: User):
    _, value = create_token(user, kind=Token.Kind.SESSION)
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    return client


@pytest.fixture
def admin_client(client, db):
    return login(client, make_user("ada", "administrator"))


@pytest.fixture
def viewer_client(client, db):
    return login(client, make_user("vic", "viewer"))


@pytest.fixture
def operator_client(client, db):
    return login(client, make_user("olga", "operator"))


def add_run(job, status=Status.SUCCEEDED, worker=None, parameters=None, results=None,
            log=b"", age=timedelta(minutes=5), **fields) -> Run:
    now = timezone.now()
    started = None if status == Status.PENDING else now - age
    completed = now - age + timedelta(seconds=12) if status not in (Status.PENDING, Status.RUNNING) else None
    run = Run.objects.create(
        project=job.project, job=job, status=status, worker=worker,
        parameters=parameters or {}, results=results or {}, started=started,
        completed=completed, **fields,
    )
    for index, step in enumerate(job.steps):
        RunStep.objects.create(run=run, index=index, name=step["name"], status=status,
                               started=started, completed=completed)
        if log:
            log_store().append(run.identifier, index, 0, log)
    return run


@pytest.fixture
def populated(db):
    """Two projects, jobs (one a pipeline), a schedule, workers and runs of every status."""
    project = Project.objects.create(identifier="examples", display_name="Examples",
                                     description="Example jobs")
    other = Project.objects.create(identifier="other", display_name="Other")
    echo = Job.objects.create(
        project=project, identifier="echo", display_name="Echo",
        description="Prints its text", steps=[{"name": "echo", "command": ["echo", "{text}"]}],
        parameters=[{"name": "text", "description": "what to print", "default": "hi"}],
    )
    flood = Job.objects.create(
        project=project, identifier="log-flood", display_name="Log flood",
        steps=[{"name": "count", "command": ["seq", "{lines}"]}],
        parameters=[{"name": "lines", "default": 100000}],
        properties={"pool": "special"},
    )
    pipeline = Job.objects.create(
        project=project, identifier="pipeline-diamond", display_name="Diamond",
        pipeline={"elements": [{"identifier": "a", "job": "echo", "parameters": {}, "after": {}}]},
    )
    build = Job.objects.create(project=other, identifier="build", display_name="Build",
                               steps=[{"name": "make", "command": ["make"]}])
    schedule = Schedule.objects.create(project=project, identifier="echo-hourly", job=echo,
                                       expression="0 * * * *")
    online = Worker.objects.create(identifier="w1", is_connected=True, version="1.0",
                                   properties={"os": "linux"}, executors=2)
    Worker.objects.create(identifier="w2", is_connected=False, is_enabled=False)
    runs = {
        "succeeded": add_run(echo, worker=online, parameters={"text": "hi"},
                             results={"text": "hi", "answer": 42}, log=b"hi\n"),
        "failed": add_run(build, Status.FAILED, worker=online, log=b"make: *** error\n"),
        "running": add_run(flood, Status.RUNNING, worker=online, parameters={"lines": 100000},
                           log=b"".join(b"%d\n" % n for n in range(1, 20001))),
        "pending": add_run(flood, Status.PENDING, parameters={"lines": 5}),
        "xss": add_run(echo, worker=online, parameters={"text": XSS}, results={"text": XSS},
                       log=XSS.encode() + b"\n"),
        "scheduled": add_run(echo, source=Run.Source.SCHEDULE, schedule=schedule,
                             parameters={"text": "tick"}, log=b"tick\n"),
    }
    parent = add_run(pipeline, Status.RUNNING)
    runs["pipeline"] = parent
    runs["child"] = add_run(echo, worker=online, parent=parent, pipeline_element="a",
                            source=Run.Source.PIPELINE, parameters={"text": "element a"})
    Schedule.objects.filter(pk=schedule.pk).update(last_run=runs["scheduled"])
    return {"project": project, "echo": echo, "flood": flood, "pipeline": pipeline,
            "schedule": schedule, "worker": online, "runs": runs}
