"""The website's forms: trigger with parameters, abort, enable and disable, archive, raw log."""

import io
import json
import zipfile

import pytest

from orchestra.extensions import log_store
from orchestra.models import AuditEvent
from projects.models import Job, Schedule
from runs.models import Run, Status
from workers.models import Worker


def test_trigger_form_creates_a_run_with_typed_parameters(operator_client, populated):
    response = operator_client.post("/projects/examples/jobs/log-flood/trigger", {"lines": "7"})
    run = Run.objects.filter(job=populated["flood"]).latest("created")
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{run.identifier}/"
    assert run.parameters == {"lines": 7}
    assert run.triggered_by.username == "olga"


def test_trigger_form_shows_parameter_errors(operator_client, populated):
    before = Run.objects.count()
    response = operator_client.post("/projects/examples/jobs/log-flood/trigger", {"lines": "many"})
    assert response.status_code == 400
    assert "lines must be a number" in response.content.decode()
    assert Run.objects.count() == before


def test_trigger_form_empty_optional_parameter_uses_the_default(operator_client, populated):
    operator_client.post("/projects/examples/jobs/echo/trigger", {"text": ""})
    assert Run.objects.filter(job=populated["echo"]).latest("created").parameters == {"text": "hi"}


def test_disabled_job_cannot_be_triggered_and_the_answer_is_the_services(operator_client, populated):
    Job.objects.filter(pk=populated["echo"].pk).update(is_enabled=False)
    runs = Run.objects.count()
    response = operator_client.post("/projects/examples/jobs/echo/trigger", {"text": "x"})
    service = operator_client.post("/api/projects/examples/jobs/echo/trigger",
                                   {"parameters": {"text": "x"}}, content_type="application/json")
    assert response.status_code == service.status_code == 409
    assert "job examples/echo is disabled" in response.content.decode()
    assert service.json()["error"] == "job examples/echo is disabled"
    assert Run.objects.count() == runs


def test_viewer_cannot_trigger_or_abort(viewer_client, populated):
    assert viewer_client.post("/projects/examples/jobs/echo/trigger", {"text": "x"}).status_code == 403
    run = populated["runs"]["pending"]
    assert viewer_client.post(f"/runs/{run.identifier}/abort").status_code == 403


def test_abort_cancels_a_pending_run(operator_client, populated):
    run = populated["runs"]["pending"]
    response = operator_client.post(f"/runs/{run.identifier}/abort")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_abort_needs_post(operator_client, populated):
    run = populated["runs"]["pending"]
    assert operator_client.get(f"/runs/{run.identifier}/abort").status_code == 405


def test_administrator_disables_and_enables_job_worker_and_schedule(admin_client, populated):
    admin_client.post("/projects/examples/jobs/echo/enabled", {"enabled": "false"})
    assert not Job.objects.get(pk=populated["echo"].pk).is_enabled
    admin_client.post("/projects/examples/jobs/echo/enabled", {"enabled": "true"})
    assert Job.objects.get(pk=populated["echo"].pk).is_enabled
    admin_client.post("/workers/w1/enabled", {"enabled": "false"})
    assert not Worker.objects.get(identifier="w1").is_enabled
    admin_client.post("/projects/examples/schedules/echo-hourly/enabled", {"enabled": "false"})
    assert not Schedule.objects.get(pk=populated["schedule"].pk).is_enabled
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"job.disable", "job.enable", "worker.disable", "schedule.disable"} <= actions


def test_operator_cannot_change_state(operator_client, populated):
    assert operator_client.post("/workers/w1/enabled", {"enabled": "false"}).status_code == 403
    assert Worker.objects.get(identifier="w1").is_enabled


def test_archive_holds_run_results_and_every_step_log(operator_client, populated):
    run = populated["runs"]["succeeded"]
    response = operator_client.get(f"/runs/{run.identifier}/archive")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert run.identifier in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    assert sorted(archive.namelist()) == ["logs/0-echo.log", "results.json", "run.json"]
    data = json.loads(archive.read("run.json"))
    assert data["identifier"] == run.identifier and data["status"] == "succeeded"
    assert data["steps"][0]["name"] == "echo"
    assert json.loads(archive.read("results.json")) == {"text": "hi", "answer": 42}
    assert archive.read("logs/0-echo.log") == b"hi\n"


def test_long_log_shows_the_tail_and_links_the_raw_log(admin_client, populated):
    run = populated["runs"]["running"]
    page = admin_client.get(f"/runs/{run.identifier}/log/").content.decode()
    assert "\n20000\n" in page and "\n1\n2\n3\n" not in page
    raw_url = f"/runs/{run.identifier}/steps/0/raw"
    assert f'href="{raw_url}"' in page
    raw = admin_client.get(raw_url)
    content = raw.getvalue()
    assert content.startswith(b"1\n2\n3\n") and content.endswith(b"\n20000\n")
    assert raw["X-Run-Status"] == "running"
    assert int(raw["X-Log-Size"]) == len(content)
    tail = admin_client.get(raw_url + f"?offset={len(content) - 6}")
    assert tail.getvalue() == b"20000\n"


@pytest.mark.parametrize("offset", [2**50, 2**63, 2**64, 10**30])
def test_raw_log_read_from_far_past_the_end_reads_nothing(admin_client, populated, offset):
    run = populated["runs"]["succeeded"]
    raw = admin_client.get(f"/runs/{run.identifier}/steps/0/raw", {"offset": offset, "limit": offset})
    assert raw.status_code == 200 and raw.getvalue() == b"" and raw["X-Log-Size"] == "3"


def test_live_log_reads_the_websites_own_route_from_the_current_size(admin_client, populated):
    # The website's route, not the service's: a process serving the website alone
    # (`runmaster --serve website`) shows a live log too.
    run = populated["runs"]["running"]
    page = admin_client.get(f"/runs/{run.identifier}/log/").content.decode()
    size = len(b"".join(b"%d\n" % n for n in range(1, 20001)))
    live_url = f"/runs/{run.identifier}/steps/0/raw"
    assert f'data-log="{live_url}" data-offset="{size}"' in page
    log_store().append(run.identifier, 0, size, b"20001\n")
    more = admin_client.get(live_url, {"offset": size, "limit": 65536})
    assert more.getvalue() == b"20001\n"
    assert (more["X-Log-Size"], more["X-Run-Status"]) == (str(size + 6), "running")
