"""The website's pictures: a job's history, the project's strips."""

import re

from runs.models import Status
from tests.website.conftest import add_run


def history_links(page: str) -> list[str]:
    svg = re.search(r'<svg[^>]*class="history-chart".*?</svg>', page, re.S).group(0)
    return re.findall(r'<a href="/runs/([0-9a-f]{32})/">', svg)


def test_job_page_shows_its_last_runs_as_bars_linking_to_each_run(admin_client, populated):
    echo = populated["echo"]
    failed = add_run(echo, Status.FAILED)
    page = admin_client.get("/projects/examples/jobs/echo/").content.decode()
    expected = list(echo.runs.order_by("created", "id").values_list("identifier", flat=True))
    assert history_links(page) == expected and expected[-1] == failed.identifier
    assert "<title id=\"history-title\">Duration and status of the last 5 runs of echo" in page
    assert f"<title>run {failed.identifier[:8]} failed, 12s</title>" in page
    assert ("Last 5 runs: 4 succeeded, 1 failed. Success rate 80 % of the 5 that ended. "
            "Succeeded runs: median 12s, 95th percentile 12s.") in page


def test_job_page_history_stops_at_fifty_runs(admin_client, populated):
    runs = [add_run(populated["flood"], Status.SUCCEEDED) for _ in range(55)]
    page = admin_client.get("/projects/examples/jobs/log-flood/").content.decode()
    assert history_links(page) == [run.identifier for run in runs[-50:]]


def test_a_job_without_runs_says_so_instead_of_a_picture(admin_client, populated):
    populated["pipeline"].runs.all().delete()
    page = admin_client.get("/projects/examples/jobs/pipeline-diamond/").content.decode()
    assert "history-chart" not in page and "No runs yet." in page


def test_project_page_shows_each_jobs_last_runs_as_a_strip_and_one_line(admin_client, populated):
    for _ in range(25):
        add_run(populated["echo"], Status.SUCCEEDED)
    add_run(populated["echo"], Status.FAILED)
    page = admin_client.get("/projects/examples/").content.decode()
    rows = dict(re.findall(r'<tr><td><a href="/projects/examples/jobs/([\w-]+)/">(.*?)</tr>', page, re.S))
    echo = rows["echo"]
    assert "<title>Statuses of the last 20 runs of echo, oldest first</title>" in echo
    assert echo.count("h8v14h-8z") == 20
    assert '<path class="s-failed" d="M190 0h8v14h-8z"/>' in echo  # the newest, at the right
    assert '<text x="194" y="11">×</text>' in echo
    assert "19 of 20 succeeded (95 %) · median 12s, 95th percentile 12s" in echo
    assert '<span class="small">1 pending, 1 running</span>' in rows["log-flood"]  # none ended
