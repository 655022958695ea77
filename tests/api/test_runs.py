import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from orchestra.extensions import log_store, run_transformers
from projects.models import Job
from runs.filters import RunFilter
from runs.models import Run, RunStep, Status
from runs.serializers import RunDetailSerializer, run_detail_queryset
from tests.api.conftest import make_run
from workers.models import Worker

pytestmark = pytest.mark.database


def identifiers(response) -> list[str]:
    return [run["identifier"] for run in response.json()["results"]]


def test_trigger_answers_201_with_the_run(service, users, catalogue):
    response = service("operator").post(
        "/api/projects/examples/jobs/echo/trigger", {"parameters": {"text": "hi"}}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    run = Run.objects.get(identifier=data["identifier"])
    assert data["status"] == "pending" and data["parameters"] == {"text": "hi"}
    assert data["project"] == "examples" and data["job"] == "echo" and data["source"] == "user"
    assert data["triggered_by"] == "operator-user"
    assert [step["name"] for step in data["steps"]] == ["echo"]
    assert run.triggered_by == users["operator"][0]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"parameters": {}}, "parameters.text"),
        ({"parameters": {"text": "x", "nope": 1}}, "parameters.nope"),
        ({"parameters": {"text": ["a"]}}, "parameters.text"),
        ({"parameters": "text"}, "parameters"),
    ],
)
def test_trigger_with_bad_parameters_answers_400_naming_the_field(service, catalogue, body, field):
    response = service("operator").post("/api/projects/examples/jobs/echo/trigger", body)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["error"]
    assert Run.objects.count() == 0


def test_trigger_of_a_disabled_job_answers_409(service, catalogue):
    service("administrator").post("/api/projects/examples/jobs/hello/disable")
    response = service("operator").post("/api/projects/examples/jobs/hello/trigger")
    assert response.status_code == 409 and "disabled" in response.json()["error"]


def test_trigger_of_an_unknown_job_answers_404_json(service, catalogue):
    response = service("operator").post("/api/projects/examples/jobs/nope/trigger")
    assert response.status_code == 404 and response.json()["error"]


def test_a_viewer_cannot_trigger(service, catalogue):
    response = service("viewer").post("/api/projects/examples/jobs/hello/trigger")
    assert response.status_code == 403 and response.json()["error"]


def test_run_detail(service, catalogue):
    parent = make_run(catalogue["hello"])
    now = timezone.now()
    run = make_run(
        catalogue["hello"], worker=catalogue["worker"], results={"answer": 42}, steps=2,
        parent=parent, started=now - timedelta(seconds=90), completed=now,
    )
    RunStep.objects.filter(run=run, index=0).update(started=now - timedelta(seconds=90), completed=now - timedelta(seconds=30))
    data = service("viewer").get(f"/api/runs/{run.identifier}").json()
    assert data["status"] == "succeeded" and data["results"] == {"answer": 42}
    assert data["worker"] == "worker-1" and data["parent"] == parent.identifier
    assert data["duration_seconds"] == 90.0
    assert [step["duration_seconds"] for step in data["steps"]] == [60.0, None]
    assert data["links"]["archive"] == f"/api/runs/{run.identifier}/archive"
    assert data["steps"][1]["log"] == f"/api/runs/{run.identifier}/steps/1/log"
    for key in ("created", "started", "completed", "last_update", "parameters", "source"):
        assert key in data


def test_unknown_run_answers_404_json(service, db):
    response = service("viewer").get("/api/runs/nope")
    assert response.status_code == 404 and response.json()["error"]


def test_step_log_reads_by_offset_and_limit(service, catalogue):
    run = make_run(catalogue["hello"], status=Status.RUNNING)
    log_store().append(run.identifier, 0, 0, b"line 1\nline 2\n<script>\n")
    path = f"/api/runs/{run.identifier}/steps/0/log"
    whole = service("viewer").get(path)
    assert whole.status_code == 200 and whole["Content-Type"].startswith("text/plain")
    assert whole.getvalue() == b"line 1\nline 2\n<script>\n"
    assert whole["X-Log-Size"] == "23" and whole["X-Run-Status"] == "running"
    part = service("viewer").get(path, {"offset": 7, "limit": 6})
    assert part.getvalue() == b"line 2" and part["X-Log-Size"] == "23"
    assert service("viewer").get(path, {"offset": 23}).getvalue() == b""
    log_store().delete(run.identifier)


@pytest.mark.parametrize("name, value", [("offset", "-1"), ("limit", "x")])
def test_step_log_refuses_bad_offsets(service, catalogue, name, value):
    run = make_run(catalogue["hello"])
    response = service("viewer").get(f"/api/runs/{run.identifier}/steps/0/log", {name: value})
    assert response.status_code == 400 and response.json()["field"] == name


@pytest.mark.parametrize("offset", [2**50, 2**63, 2**64, 10**30])
def test_step_log_read_from_far_past_the_end_reads_nothing(service, catalogue, offset):
    """Offsets are Python integers up to the log store, which never seeks past the size."""
    run = make_run(catalogue["hello"], status=Status.RUNNING)
    log_store().append(run.identifier, 0, 0, b"line 1\n")
    response = service("viewer").get(
        f"/api/runs/{run.identifier}/steps/0/log", {"offset": offset, "limit": offset}
    )
    assert response.status_code == 200 and response.getvalue() == b""
    assert response["X-Log-Size"] == "7" and response["Content-Length"] == "0"
    log_store().delete(run.identifier)


def test_step_log_of_an_unknown_step_answers_404(service, catalogue):
    run = make_run(catalogue["hello"])
    assert service("viewer").get(f"/api/runs/{run.identifier}/steps/5/log").status_code == 404


def test_abort_cancels_a_pending_run_and_asks_a_running_one_to_stop(service, catalogue):
    pending = make_run(catalogue["hello"], status=Status.PENDING)
    data = service("operator").post(f"/api/runs/{pending.identifier}/abort").json()
    assert data["status"] == "cancelled"
    running = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    data = service("operator").post(f"/api/runs/{running.identifier}/abort").json()
    assert data["status"] == "running" and data["abort_requested"] is True
    assert service("viewer").post(f"/api/runs/{running.identifier}/abort").status_code == 403


def test_archive_holds_the_run_its_results_and_every_step_log(service, catalogue):
    now = timezone.now()
    run = make_run(catalogue["hello"], results={"answer": 42, "nested": {"level": "deep"}},
                   worker=catalogue["worker"], steps=3, parameters={"text": "hi"},
                   started=now - timedelta(seconds=90), completed=now)
    run.refresh_from_db()  # as stored: MongoDB keeps milliseconds
    log_store().append(run.identifier, 0, 0, b"first step\n")
    log_store().append(run.identifier, 2, 0, b"third step\n\xff binary too\n")
    response = service("operator").get(f"/api/runs/{run.identifier}/archive")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="examples-hello-{run.identifier}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    assert archive.namelist() == ["run.json", "results.json", "logs/0-step-0.log",
                                  "logs/1-step-1.log", "logs/2-step-2.log"]
    steps = [{"index": index, "name": f"step-{index}", "status": "succeeded", "started": None,
              "completed": None} for index in range(3)]
    assert json.loads(archive.read("run.json")) == {
        "identifier": run.identifier, "project": "examples", "job": "hello",
        "parameters": {"text": "hi"}, "status": "succeeded", "status_message": "",
        "worker": "worker-1", "source": "user", "schedule": None, "parent": None,
        "pipeline_element": "", "created": run.created.isoformat(),
        "started": run.started.isoformat(), "completed": run.completed.isoformat(),
        "results": {"answer": 42, "nested": {"level": "deep"}}, "steps": steps,
    }
    assert json.loads(archive.read("results.json")) == {"answer": 42, "nested": {"level": "deep"}}
    assert archive.read("logs/0-step-0.log") == b"first step\n"
    assert archive.read("logs/1-step-1.log") == b""
    assert archive.read("logs/2-step-2.log") == b"third step\n\xff binary too\n"
    assert service("viewer").get(f"/api/runs/{run.identifier}/archive").status_code == 403
    log_store().delete(run.identifier)


@pytest.fixture
def runs(catalogue, users):
    now = timezone.now()
    hello, echo, lone = catalogue["hello"], catalogue["echo"], catalogue["lone"]
    made = {
        "ok": make_run(hello, results={"answer": 42, "nested": {"level": "deep"}}, worker=catalogue["worker"]),
        "text": make_run(hello, results={"answer": "42"}),
        "failed": make_run(echo, status=Status.FAILED, results={"answer": 41}),
        "scheduled": make_run(hello, status=Status.PENDING, source=Run.Source.SCHEDULE, schedule=catalogue["schedule"]),
        "other": make_run(lone, status=Status.ABORTED, results={"contains": "x"}),
    }
    Run.objects.filter(pk=made["other"].pk).update(created=now - timedelta(days=3))
    Run.objects.filter(pk=made["failed"].pk).update(started=now - timedelta(minutes=5), completed=now)
    made["child"] = make_run(echo, parent=made["ok"], source=Run.Source.PIPELINE)
    return made


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"project": "other"}, {"other"}),
        ({"job": "echo"}, {"failed", "child"}),
        ({"status": "failed"}, {"failed"}),
        ({"status": ["failed", "aborted"]}, {"failed", "other"}),
        ({"worker": "worker-1"}, {"ok"}),
        ({"source": "schedule"}, {"scheduled"}),
        ({"source": "pipeline"}, {"child"}),
        ({"parent": "OK"}, {"child"}),
        ({"results__answer": "42"}, {"ok", "text"}),
        ({"results__answer": "41"}, {"failed"}),
        ({"results__nested__level": "deep"}, {"ok"}),
        ({"results__contains": "x"}, {"other"}),
        ({"results__answer": "42", "job": "hello", "status": "succeeded"}, {"ok", "text"}),
        ({"result": "answer=41"}, {"failed"}),
    ],
)
def test_run_list_filters(service, runs, query, expected):
    if query.get("parent") == "OK":
        query = {**query, "parent": runs["ok"].identifier}
    response = service("viewer").get("/api/runs", query)
    assert response.status_code == 200
    names = {name for name, run in runs.items() if run.identifier in identifiers(response)}
    assert names == expected


def test_run_list_filters_by_creation_date(service, runs):
    today = timezone.now().date()
    recent = service("viewer").get("/api/runs", {"created_after": today.isoformat()})
    assert runs["other"].identifier not in identifiers(recent) and len(identifiers(recent)) == 5
    old = service("viewer").get("/api/runs", {"created_before": (today - timedelta(days=1)).isoformat()})
    assert identifiers(old) == [runs["other"].identifier]


def test_run_list_refuses_bad_filter_values_with_the_field(service, runs):
    response = service("viewer").get("/api/runs", {"status": "sleeping"})
    assert response.status_code == 400 and response.json()["field"] == "status"
    response = service("viewer").get("/api/runs", {"ordering": "password"})
    assert response.status_code == 400 and response.json()["field"] == "ordering"


def ordering_names() -> list[str]:
    return [name for name, _ in RunFilter.base_filters["ordering"].extra["choices"] if not name.startswith("-")]


@pytest.fixture
def sortable(catalogue) -> dict[str, Run]:
    """Six runs, made and created a to f, whose every sortable column orders them differently.

    No column but `created` sorts them in the order they were made, nor in the list's default
    order (newest first: f e d c b a), so an ignored or misread sort shows. Where values tie
    (project, job, status, worker, source, and runs not started or completed) the ties fall
    in the order the runs were made, in the sort's direction.
    """
    now = timezone.now()
    worker_1, worker_2 = catalogue["worker"], Worker.objects.create(identifier="worker-2")
    hello, echo, lone, schedule = catalogue["hello"], catalogue["echo"], catalogue["lone"], catalogue["schedule"]
    made = {
        "a": make_run(hello, Status.SUCCEEDED, worker=worker_2),
        "b": make_run(lone, Status.CANCELLED),
        "c": make_run(echo, Status.FAILED, worker=worker_1, source=Run.Source.PIPELINE),
        "d": make_run(hello, Status.RUNNING, worker=worker_1, source=Run.Source.SCHEDULE, schedule=schedule),
        "e": make_run(lone, Status.SUCCEEDED, worker=worker_2),
        "f": make_run(hello, Status.PENDING, source=Run.Source.SCHEDULE, schedule=schedule),
    }
    columns = {  # name: identifier, then created, started, completed, last_update in minutes from now
        "a": ("d" * 32, -60, -58, -57, -1),
        "b": ("a" * 32, -50, None, -49, -49),
        "c": ("f" * 32, -40, -15, -2, -2),
        "d": ("b" * 32, -30, -29, None, -0.5),
        "e": ("c" * 32, -20, -5, -3, -3),
        "f": ("e" * 32, -10, None, None, -10),
    }
    for name, (identifier, *minutes) in columns.items():
        created, started, completed, last_update = (
            None if value is None else now + timedelta(minutes=value) for value in minutes
        )
        # update(), not save(): save() would set last_update to now, and created is set apart
        # so that no two runs share a creation time.
        Run.objects.filter(pk=made[name].pk).update(
            identifier=identifier, created=created, started=started, completed=completed,
            last_update=last_update,
        )
        made[name].refresh_from_db()
    return made


# Each column's ascending order of the `sortable` runs; descending is its exact reverse.
ASCENDING = {
    "identifier": "bdeafc",
    "project": "acdfbe",  # examples, other
    "job": "cadfbe",  # echo, hello, lone
    "status": "bcfdae",  # cancelled, failed, pending, running, succeeded
    "worker": "bfcdae",  # without a worker, worker-1, worker-2
    "source": "cdfabe",  # pipeline, schedule, user
    "created": "abcdef",
    "started": "bfadce",  # not started first
    "completed": "dfabec",  # not completed first
    "last_update": "bfecad",
}


def test_every_column_of_the_runs_list_is_sortable_and_has_its_order_checked():
    assert set(ordering_names()) == set(ASCENDING)


@pytest.mark.parametrize("name", ASCENDING)
def test_run_list_sorts_by_every_column_both_ways(service, sortable, name):
    for ordering, expected in ((name, ASCENDING[name]), (f"-{name}", ASCENDING[name][::-1])):
        response = service("viewer").get("/api/runs", {"ordering": ordering})
        assert response.status_code == 200
        names = {run.identifier: name for name, run in sortable.items()}
        assert "".join(names[identifier] for identifier in identifiers(response)) == expected, ordering


def test_run_list_sorts_ties_the_same_way_on_every_page(service, catalogue):
    """Pages are cut by offset, so ties must fall in one order on every request, or a page
    repeats runs of the one before and another never shows them."""
    now = timezone.now()
    made = []
    for number in range(12):
        run = make_run(catalogue["hello"], Status.FAILED if number % 3 else Status.SUCCEEDED)
        # Creation times in the reverse of the order the runs were made.
        Run.objects.filter(pk=run.pk).update(created=now - timedelta(minutes=number))
        made.append(run.identifier)
    # Failed first (f < s), each status oldest first: the runs made last were created first.
    expected = [made[number] for number in reversed(range(12)) if number % 3]
    expected += [made[number] for number in reversed(range(12)) if not number % 3]
    for ordering, order in (("status", expected), ("-status", expected[::-1])):
        pages = [
            identifiers(service("viewer").get("/api/runs", {"ordering": ordering, "page_size": 5, "page": page}))
            for page in (1, 2, 3)
        ]
        assert pages == [order[:5], order[5:10], order[10:]], ordering


def test_run_list_paginates_and_keeps_filters_in_links(service, runs):
    response = service("viewer").get("/api/runs", {"page_size": 2, "job": "hello", "ordering": "created"})
    data = response.json()
    assert data["count"] == 3
    assert identifiers(response) == [runs["ok"].identifier, runs["text"].identifier]
    assert "job=hello" in data["next"] and "ordering=created" in data["next"] and "page=2" in data["next"]
    second = service("viewer").get("/api/runs", {"page_size": 2, "job": "hello", "ordering": "created", "page": 2})
    assert identifiers(second) == [runs["scheduled"].identifier] and second.json()["previous"]
    # Past the end, the last page, as on the website (tests/api/test_list_parameters.py).
    beyond = service("viewer").get("/api/runs", {"page_size": 2, "job": "hello", "ordering": "created", "page": 99})
    assert identifiers(beyond) == [runs["scheduled"].identifier] and beyond.json()["next"] is None


def test_run_list_queries_do_not_grow_with_the_page(service, catalogue):
    def count_queries() -> int:
        client = service("viewer")
        client.get("/api/runs")  # the token's daily write happens here, not below
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/runs").status_code == 200
        return len(queries)

    for _ in range(3):
        make_run(catalogue["hello"], worker=catalogue["worker"], parent=None)
    few = count_queries()
    parent = make_run(catalogue["hello"])
    for _ in range(30):
        make_run(catalogue["echo"], worker=catalogue["worker"], parent=parent, schedule=catalogue["schedule"])
    assert count_queries() == few
    # Token and user, the user's permissions, the count and the page: none per run.
    assert few == 4


def test_runs_pass_through_the_configured_transformers(service, catalogue, settings):
    settings.RUN_TRANSFORMERS = ["runs.transformers.add_durations", "examples.transformers.add_pass_rate"]
    run_transformers.cache_clear()
    try:
        run = make_run(catalogue["hello"], results={"passed": 3, "total": 4})
        data = service("viewer").get(f"/api/runs/{run.identifier}").json()
        assert data["pass_rate"] == 0.75 and "duration_seconds" in data and "links" not in data
        listed = service("viewer").get("/api/runs").json()["results"][0]
        assert listed["pass_rate"] == 0.75
    finally:
        run_transformers.cache_clear()


def test_a_pipeline_run_lists_its_children(service, catalogue):
    parent = make_run(catalogue["hello"], source=Run.Source.PIPELINE)
    child = make_run(catalogue["echo"], parent=parent, pipeline_element="build", status=Status.FAILED)
    data = service("viewer").get(f"/api/runs/{parent.identifier}").json()
    assert data["children"] == [
        {"identifier": child.identifier, "job": "echo", "pipeline_element": "build", "status": "failed"}
    ]


@pytest.mark.django_db(transaction=True)  # dispatch runs once the trigger commits
def test_trigger_answers_the_run_as_the_service_shows_it_after_dispatch(service, catalogue):
    """The trigger's answer reads again what dispatch changes (here: the worker that claimed
    the run as the trigger committed) and shows the run as GET /api/runs/<id> does."""
    operator = service("operator")
    worker = catalogue["worker"]
    Worker.objects.filter(pk=worker.pk).update(
        is_connected=True, channel_name="specific.test!1", executors=1, last_seen=timezone.now()
    )
    response = operator.post("/api/projects/examples/jobs/echo/trigger", {"parameters": {"text": "hi"}})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["worker"] == worker.identifier
    shown = operator.get(f"/api/runs/{answer['identifier']}").json()
    assert answer == shown
    assert [step["name"] for step in answer["steps"]] == ["echo"]
    assert answer["children"] == answer["retries"] == []


def test_trigger_answer_of_a_job_with_steps_reads_neither_children_nor_retries(service, catalogue):
    """A new run that is not a pipeline has no children, and no retries before it ends: its
    answer reads the run, its steps and nothing else of it."""
    operator = service("operator")
    with CaptureQueriesContext(connection) as queries:
        response = operator.post("/api/projects/examples/jobs/echo/trigger", {"parameters": {"text": "hi"}})
    assert response.status_code == 201, response.content
    if connection.vendor == "mongodb":
        reads_of_runs = [query["sql"] for query in queries.captured_queries
                         if query["sql"].startswith("db.runs_run.aggregate(")]
    else:
        reads_of_runs = [
            query["sql"] for query in queries.captured_queries
            if query["sql"].startswith("SELECT") and f"FROM {connection.ops.quote_name('runs_run')}" in query["sql"]
            and "runs_run_parent" not in query["sql"]
        ]
    assert len(reads_of_runs) == 1, reads_of_runs


@pytest.mark.django_db(transaction=True)  # the pipeline starts its elements once it commits
def test_trigger_of_a_pipeline_answers_its_children(service, catalogue):
    Job.objects.create(
        project=catalogue["hello"].project, identifier="pipe", display_name="pipe",
        pipeline={"elements": [{"identifier": "only", "job": "hello", "parameters": {}, "after": {}}]},
    )
    operator = service("operator")
    response = operator.post("/api/projects/examples/jobs/pipe/trigger", {"parameters": {}})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert [(child["job"], child["pipeline_element"]) for child in answer["children"]] == [("hello", "only")]
    assert answer == operator.get(f"/api/runs/{answer['identifier']}").json()


def test_runs_are_shown_by_one_serializer_whose_fields_are_built_once(service, catalogue, monkeypatch):
    """Triggers and run pages share one serializer: building its fields for every run shown
    cost as much as reading and showing the run. Each run is still shown as itself."""
    operator = service("operator")
    first = operator.post("/api/projects/examples/jobs/echo/trigger", {"parameters": {"text": "one"}})
    built = []
    build = RunDetailSerializer.get_fields
    monkeypatch.setattr(RunDetailSerializer, "get_fields", lambda self: built.append(self) or build(self))
    second = operator.post("/api/projects/examples/jobs/echo/trigger", {"parameters": {"text": "two"}})
    shown = operator.get(f"/api/runs/{first.json()['identifier']}")
    assert built == []
    assert second.json()["parameters"] == {"text": "two"} and shown.json()["parameters"] == {"text": "one"}
    monkeypatch.undo()
    fresh = RunDetailSerializer(run_detail_queryset().get(identifier=first.json()["identifier"])).data
    assert shown.json() == json.loads(JSONRenderer().render(fresh))
