"""Every page answers with the populated database, and shows what it is for."""

import pytest

from projects.models import Hook, Job
from runs.models import Run
from tests.website.conftest import XSS, add_run


def page_urls(data) -> list[str]:
    runs = data["runs"]
    urls = ["/", "/projects/", "/projects/examples/", "/projects/examples/status/",
            "/projects/examples/jobs/echo/", "/projects/examples/jobs/log-flood/",
            "/projects/examples/jobs/pipeline-diamond/", "/jobs/", "/runs/", "/workers/",
            "/workers/w1/", "/workers/w2/", "/schedules/",
            "/runs/?status=failed&ordering=-job", "/jobs/?project=examples&ordering=-identifier",
            "/workers/?connected=true&ordering=-last_seen", "/schedules/?ordering=expression"]
    for run in runs.values():
        urls += [f"/runs/{run.identifier}/", f"/runs/{run.identifier}/log/"]
    return urls


def test_every_page_answers(admin_client, populated):
    for url in page_urls(populated):
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_pages_need_a_login(client, populated):
    response = client.get("/runs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_overview_shows_active_runs_failures_and_workers(admin_client, populated):
    page = admin_client.get("/").content.decode()
    runs = populated["runs"]
    assert runs["running"].identifier[:8] in page
    assert runs["failed"].identifier[:8] in page
    assert 'href="/workers/w1/"' in page
    assert 'href="/workers/w2/"' not in page  # offline


def test_run_page_shows_parameters_results_steps_and_actions(admin_client, populated):
    run = populated["runs"]["succeeded"]
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    assert "<th>answer</th><td>42</td>" in page
    assert "<th>text</th><td>hi</td>" in page
    assert f'href="/runs/{run.identifier}/archive"' in page
    assert 'href="/workers/w1/"' in page
    assert "took 12s" in page


def test_active_run_page_has_abort_button_and_refreshes_without_javascript(admin_client, populated):
    run = populated["runs"]["running"]
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    assert f'action="/runs/{run.identifier}/abort"' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    assert 'src="/static/log.js"' in page


def test_finished_run_page_does_not_refresh(admin_client, populated):
    run = populated["runs"]["succeeded"]
    page = admin_client.get(f"/runs/{run.identifier}/log/").content.decode()
    assert "refresh" not in page
    assert "log.js" not in page


def test_pending_run_says_why_no_worker_takes_it(admin_client, populated):
    run = populated["runs"]["pending"]
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    assert "No enabled worker has the properties this job needs" in page


def test_pipeline_child_links_its_parent(admin_client, populated):
    child, parent = populated["runs"]["child"], populated["runs"]["pipeline"]
    page = admin_client.get(f"/runs/{child.identifier}/").content.decode()
    assert f'href="/runs/{parent.identifier}/"' in page
    page = admin_client.get(f"/runs/{parent.identifier}/").content.decode()
    assert f'href="/runs/{child.identifier}/"' in page


def test_viewer_sees_no_action_buttons(viewer_client, populated):
    run = populated["runs"]["running"]
    page = viewer_client.get(f"/runs/{run.identifier}/").content.decode()
    assert "/abort" not in page and "/archive" not in page
    job_page = viewer_client.get("/projects/examples/jobs/echo/").content.decode()
    assert "/trigger" not in job_page
    assert viewer_client.get(f"/runs/{run.identifier}/archive").status_code == 403


@pytest.mark.parametrize("path", ["runs/{xss}/", "runs/{xss}/log/", "runs/", "", "projects/examples/jobs/echo/"])
def test_user_data_renders_as_text(admin_client, populated, path):
    page = admin_client.get("/" + path.format(xss=populated["runs"]["xss"].identifier)).content.decode()
    assert XSS not in page
    if "{xss}" in path:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_schedules_show_next_tick_and_last_run(admin_client, populated):
    page = admin_client.get("/schedules/").content.decode()
    assert "0 * * * *" in page
    assert f'href="/runs/{populated["runs"]["scheduled"].identifier}/"' in page
    assert ":00</td>" in page  # the next tick of an hourly schedule is on the hour


def test_a_schedule_whose_job_is_disabled_shows_no_next_tick(admin_client, populated):
    Job.objects.filter(pk=populated["echo"].pk).update(is_enabled=False)
    page = admin_client.get("/schedules/").content.decode()
    row = page[page.index("echo-hourly"):]
    row = row[:row.index("</tr>")]
    assert "<td>–</td>" in row and ":00</td>" not in row


def test_pipeline_run_page_shows_its_graph(admin_client, populated):
    parent, child = populated["runs"]["pipeline"], populated["runs"]["child"]
    page = admin_client.get(f"/runs/{parent.identifier}/").content.decode()
    graph = page[page.index("<svg"):page.index("</svg>")]
    assert f"/runs/{child.identifier}/" in graph


def test_a_run_a_hook_triggered_names_its_hook(admin_client, populated):
    hook = Hook.objects.create(project=populated["project"], identifier="push",
                               secret_variable="PUSH_SECRET", jobs={"echo": {"text": "ref"}})
    run = add_run(populated["echo"], source=Run.Source.HOOK, hook=hook, parameters={"text": "x"})
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    assert "<dt>Source</dt><dd>hook: hook push</dd>" in page


def test_the_project_page_lists_its_hooks_and_says_which_refuse_calls(admin_client, populated, monkeypatch):
    Hook.objects.create(project=populated["project"], identifier="push", secret_variable="PUSH_SECRET",
                        jobs={"echo": {"text": "head_commit.id"}})
    monkeypatch.delenv("PUSH_SECRET", raising=False)
    page = admin_client.get("/projects/examples/").content.decode()
    row = ('<tr><td>push</td><td><code>/api/hooks/examples/push</code></td><td><a href="/projects/examples/'
           'jobs/echo/">echo</a> (text ← <code>head_commit.id</code>)</td><td>refuses every call: '
           '<code>PUSH_SECRET</code> is not set</td></tr>')
    assert row in page
    monkeypatch.setenv("PUSH_SECRET", "s3cret")
    assert "</code>)</td><td>ready</td></tr>" in admin_client.get("/projects/examples/").content.decode()
