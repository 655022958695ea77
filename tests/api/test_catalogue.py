"""Service routes of projects, jobs, schedules and workers."""

from datetime import datetime

import pytest
from django.utils import timezone

from projects.filters import JobFilter, ScheduleFilter
from orchestra.filters import AuditEventFilter, UserFilter
from workers.filters import WorkerFilter
from workers.models import Worker


def names(response, key="identifier") -> list[str]:
    assert response.status_code == 200, response.content
    return [item[key] for item in response.json()["results"]]


def test_projects(service, catalogue):
    assert names(service("viewer").get("/api/projects")) == ["examples", "other"]
    assert names(service("viewer").get("/api/projects", {"ordering": "-identifier"})) == ["other", "examples"]
    project = service("viewer").get("/api/projects/examples").json()
    assert project["display_name"] == "Examples"
    assert service("viewer").get("/api/projects/nope").status_code == 404


def test_jobs_of_a_project_and_of_all(service, catalogue):
    assert names(service("viewer").get("/api/projects/examples/jobs")) == ["echo", "hello"]
    assert names(service("viewer").get("/api/jobs")) == ["echo", "hello", "lone"]
    assert names(service("viewer").get("/api/jobs", {"project": "other"})) == ["lone"]
    assert service("viewer").get("/api/projects/nope/jobs").status_code == 404
    job = service("viewer").get("/api/projects/examples/jobs/echo").json()
    assert job["parameters"] == [{"name": "text", "required": True}] and job["project"] == "examples"
    assert service("viewer").get("/api/projects/examples/jobs/nope").status_code == 404


def test_job_enable_and_disable(service, catalogue):
    data = service("administrator").post("/api/projects/examples/jobs/hello/disable").json()
    assert data["is_enabled"] is False
    assert names(service("viewer").get("/api/jobs", {"enabled": "false"})) == ["hello"]
    data = service("administrator").post("/api/projects/examples/jobs/hello/enable").json()
    assert data["is_enabled"] is True
    assert service("operator").post("/api/projects/examples/jobs/hello/disable").status_code == 403


def test_schedules(service, catalogue):
    assert names(service("viewer").get("/api/schedules")) == ["hello-hourly"]
    assert names(service("viewer").get("/api/schedules", {"job": "echo"})) == []
    assert names(service("viewer").get("/api/projects/examples/schedules")) == ["hello-hourly"]
    schedule = service("viewer").get("/api/projects/examples/schedules/hello-hourly").json()
    assert schedule["expression"] == "0 * * * *" and schedule["job"] == "hello"
    data = service("administrator").post("/api/projects/examples/schedules/hello-hourly/disable").json()
    assert data["is_enabled"] is False
    assert names(service("viewer").get("/api/schedules", {"enabled": "true"})) == []


def test_workers(service, catalogue, users):
    Worker.objects.create(identifier="worker-2", owner=users["worker"][0], is_connected=True)
    assert names(service("viewer").get("/api/workers")) == ["worker-1", "worker-2"]
    assert names(service("viewer").get("/api/workers", {"connected": "true"})) == ["worker-2"]
    assert names(service("viewer").get("/api/workers", {"ordering": "-identifier"})) == ["worker-2", "worker-1"]
    worker = service("viewer").get("/api/workers/worker-1").json()
    assert worker["owner"] == "worker-user" and worker["properties"] == {"os": "linux"}
    assert service("administrator").post("/api/workers/worker-1/disable").json()["is_enabled"] is False
    assert service("administrator").post("/api/workers/worker-1/enable").json()["is_enabled"] is True
    assert service("viewer").get("/api/workers/nope").status_code == 404


@pytest.mark.parametrize(
    "path, filterset",
    [
        ("/api/jobs", JobFilter), ("/api/schedules", ScheduleFilter), ("/api/workers", WorkerFilter),
        ("/api/users", UserFilter), ("/api/audit", AuditEventFilter),
    ],
)
def test_lists_sort_by_every_column_both_ways(service, catalogue, path, filterset):
    for name, _ in filterset.base_filters["ordering"].extra["choices"]:
        assert service("administrator").get(path, {"ordering": name}).status_code == 200, name


def test_lists_paginate(service, catalogue):
    data = service("viewer").get("/api/jobs", {"page_size": 1, "page": 2}).json()
    assert data["count"] == 3 and [job["identifier"] for job in data["results"]] == ["hello"]
    assert data["next"] and data["previous"]


def test_project_status_lists_revisions_with_their_runs(service, catalogue, tmp_path):
    import subprocess

    from tests.api.conftest import make_run

    repository = tmp_path / "repository"
    repository.mkdir()
    git = ["git", "-C", str(repository), "-c", "user.name=T", "-c", "user.email=t@example.test"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repository)], check=True)
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "first"], check=True)
    revision = subprocess.run(
        git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    project = catalogue["project"]
    project.repository, project.repository_provider = str(repository), "git"
    project.save()
    run = make_run(catalogue["hello"], parameters={"revision": revision})
    before = timezone.now()
    data = service("viewer").get("/api/projects/examples/status").json()
    assert data["error"] == ""
    # When the provider was asked: the answer is kept a minute.
    assert before <= datetime.fromisoformat(data["read_at"]) <= timezone.now()
    (branch,) = data["branches"]
    assert branch["name"] == "main"
    assert branch["revisions"][0]["identifier"] == revision
    assert branch["revisions"][0]["runs"] == [
        {"identifier": run.identifier, "job": "hello", "status": "succeeded"}
    ]
    other = service("viewer").get("/api/projects/other/status").json()
    assert other["branches"] == [] and other["error"] and other["read_at"] is None
