"""Every page of a populated instance stays light: HTML, CSS and JS budgets, nothing external."""

import re
from datetime import timedelta
from pathlib import Path

from django.contrib.staticfiles import finders
from django.utils import timezone

from projects.models import Job
from runs.models import Run, Status
from tests.website.conftest import add_run
from workers.models import Worker
from tests.website.test_pages import page_urls

HTML_BUDGET = 30 * 1024
CSS_BUDGET = 15 * 1024
JS_BUDGET = 5 * 1024
EXTERNAL = re.compile(r'(?:src|href|action)="(?:https?:)?//', re.IGNORECASE)


def static_size(name: str) -> int:
    return Path(finders.find(name)).stat().st_size


def fill(populated) -> None:
    """Full list pages, wide results and parameters, a long log."""
    for number in range(60):
        add_run(populated["echo"], Status.FAILED, worker=populated["worker"],
                parameters={"text": "x" * 200}, results={f"r{i}": "y" * 40 for i in range(20)},
                log=b"line with some text in it\n" * 4000)


def test_every_page_within_the_html_budget(admin_client, populated):
    fill(populated)
    for url in page_urls(populated) + ["/runs/?page=2", "/runs/?ordering=-job&status=failed"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) <= HTML_BUDGET, (url, len(response.content))
        page = response.content.decode()
        assert not EXTERNAL.search(page), url
        assert '<meta name="viewport"' in page, url


def fill_pictures(populated) -> None:
    """Full pictures: a project of 17 jobs with 20 runs each (the example project's size), 60
    busy workers with runs ending every hour, a running run of a job with a history."""
    project, now = populated["project"], timezone.now()
    workers = [Worker.objects.create(identifier=f"worker-{number:02d}", is_connected=True, executors=8)
               for number in range(60)]
    runs = []
    for number in range(14):
        job = Job.objects.create(project=project, identifier=f"job-{number:02d}", display_name="Job",
                                 steps=[{"name": "s", "command": ["true"]}])
        runs += [Run(project=project, job=job, worker=workers[0], status=status, started=now,
                     completed=now + timedelta(seconds=seconds))
                 for seconds, status in enumerate([Status.SUCCEEDED, Status.FAILED] * 10)]
    for worker in workers:
        for hour in range(24):
            completed = now - timedelta(hours=hour)
            runs += [Run(project=project, job=populated["echo"], worker=worker, status=status,
                         started=completed - timedelta(seconds=30), completed=completed)
                     for status in (Status.SUCCEEDED, Status.FAILED)]
    Run.objects.bulk_create(runs)
    add_run(populated["echo"], Status.RUNNING, worker=workers[0], age=timedelta(seconds=5))


def test_pages_with_full_pictures_within_the_html_budget(admin_client, populated):
    fill_pictures(populated)
    running = Run.objects.filter(job=populated["echo"], status=Status.RUNNING).get()
    for url in ["/", "/runs/", "/workers/", "/workers/?page=2", "/projects/examples/",
                "/projects/examples/jobs/echo/", f"/runs/{running.identifier}/"]:
        page = admin_client.get(url).content.decode()
        assert "<svg" in page or "<progress" in page, url
        assert len(page.encode()) <= HTML_BUDGET, (url, len(page.encode()))


def test_css_and_javascript_within_budget_and_self_contained():
    css = Path(finders.find("orchestra.css")).read_text()
    assert static_size("orchestra.css") <= CSS_BUDGET
    assert static_size("log.js") + static_size("progress.js") <= JS_BUDGET
    assert "@font-face" not in css and "@import" not in css and "url(" not in css
    for script in ("log.js", "progress.js"):
        assert "http" not in Path(finders.find(script)).read_text()


def test_pages_load_only_our_own_static_files(admin_client, populated):
    run = populated["runs"]["running"]
    for url in ("/", f"/runs/{run.identifier}/", f"/runs/{run.identifier}/log/"):
        page = admin_client.get(url).content.decode()
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert set(assets) <= {"/static/orchestra.css", "/static/log.js", "/static/progress.js"}, assets
