"""The website's pictures: a job's history, the project's strips."""

import re
from datetime import timedelta

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
    assert "<title>Last 20 runs of echo, oldest first</title>" in echo
    assert echo.count("h8v14h-8z") == 20
    assert '<path class="s-failed" d="M190 0h8v14h-8z"/>' in echo  # the newest, at the right
    assert '<text x="194" y="11">×</text>' in echo  # the only one that did not succeed
    assert "19 of 20 succeeded (95 %) · median 12s, 95th percentile 12s" in echo
    assert '<span class="small">1 pending, 1 running</span>' in rows["log-flood"]  # none ended


def running_with_history(populated, elapsed: int = 5):
    """A running run of echo, whose earlier runs (populated: 12 s each) succeeded."""
    return add_run(populated["echo"], Status.RUNNING, worker=populated["worker"],
                   age=timedelta(seconds=elapsed))


def progress_of_run(page: str, identifier: str) -> str:
    row = re.search(rf'<tr><td><a href="/runs/{identifier}/">.*?</tr>', page, re.S).group(0)
    return re.search(r'<span class="progress">.*?</span></span>', row).group(0)


def test_a_running_run_shows_its_progress_against_the_jobs_usual_time(admin_client, populated):
    run = running_with_history(populated)
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    found = re.search(r'<progress aria-label="share of the usual time" max="12.0" value="([\d.]+)">'
                      r'</progress> <span data-progress data-elapsed="([\d.]+)" data-expected="12.0">'
                      r'(\d+) s elapsed, about (\d+) s left</span>', page)
    value, elapsed, said_elapsed, said_left = found.groups()
    assert value == elapsed and 5 <= float(elapsed) < 11  # 5 s, and however slow the request
    assert int(said_elapsed) + int(said_left) in (12, 13)  # each rounded
    assert '<script src="/static/progress.js" defer></script>' in page
    # Its step, from the same step of the earlier runs.
    steps = page.split("<h2>Steps</h2>")[1].split("</table>")[0]
    assert re.search(r"<progress [^>]*max=\"12.0\"", steps) and re.search(r"\d+ s elapsed, about \d+ s left", steps)


def test_the_runs_list_and_the_overview_show_the_progress_of_running_runs(admin_client, populated):
    run = running_with_history(populated, elapsed=30)
    for url in ("/runs/", "/"):
        page = admin_client.get(url).content.decode()
        found = re.fullmatch(r'<span class="progress"><progress [^>]*max="12.0" value="12.0"></progress> '
                             r'<span [^>]*>(\d+) s elapsed, over the usual time by (\d+) s</span></span>',
                             progress_of_run(page, run.identifier))
        elapsed, over = map(int, found.groups())
        assert 30 <= elapsed < 40 and elapsed - over == 12, url
        assert '<script src="/static/progress.js" defer></script>' in page
    overview = admin_client.get("/").content.decode()
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in overview


def test_without_earlier_succeeded_runs_a_running_run_shows_elapsed_time_only(admin_client, populated):
    run = populated["runs"]["running"]  # log-flood, which never succeeded
    page = admin_client.get(f"/runs/{run.identifier}/").content.decode()
    assert "<progress" not in page
    assert re.search(r'<span data-progress data-elapsed="300.\d" data-expected="">5 min elapsed</span>', page)
    listed = progress_of_run(admin_client.get("/runs/").content.decode(), run.identifier)
    assert "<progress" not in listed and "5 min elapsed" in listed


def test_runs_that_do_not_run_show_no_progress(admin_client, populated):
    populated["project"].runs.filter(status=Status.RUNNING).update(status=Status.FAILED)
    for url in ("/runs/", "/", f"/runs/{populated['runs']['succeeded'].identifier}/"):
        page = admin_client.get(url).content.decode()
        assert "data-progress" not in page and "progress.js" not in page, url


def test_workers_page_shows_each_workers_executors_and_last_day(admin_client, populated):
    page = admin_client.get("/workers/").content.decode()
    load = page.split("<h2>Load</h2>")[1]
    rows = dict(re.findall(r'<tr><th scope="row"><a href="/workers/(\w+)/">\w+</a></th>(.*?)</tr>', load, re.S))
    assert list(rows) == ["w1", "w2"]
    assert '<meter min="0" max="2" value="1" aria-label="busy executors"></meter> 1 busy, 1 free of 2' in rows["w1"]
    assert "<title>Runs of w1 ended per hour, last 24 hours, the current hour last</title>" in rows["w1"]
    assert "4 runs, 1 without success; at most" in rows["w1"]
    assert re.search(r'<path class="s-succeeded" d="M\d+ 16v-\d+', rows["w1"])
    assert "0 busy, 0 free of 1" in rows["w2"] and '<span class="small">none</span>' in rows["w2"]


def test_overview_shows_the_fleets_executors_and_the_queue(admin_client, populated):
    page = admin_client.get("/").content.decode()
    assert re.search(r'<p class="fleet"><meter min="0" max="2" value="1" aria-label="busy executors"></meter> '
                     r'1 of 2 executors busy, 1 free, on 1 worker online. '
                     r'1 run waits for a worker, the oldest for \d+ s.</p>', page)


def test_a_pipeline_jobs_page_shows_its_graph_before_any_run(admin_client, populated):
    populated["pipeline"].runs.all().delete()
    page = admin_client.get("/projects/examples/jobs/pipeline-diamond/").content.decode()
    graph = re.search(r'<div class="graph"><svg .*?</svg></div>', page, re.S).group(0)
    assert '<title id="pipeline-title">Pipeline pipeline-diamond: its elements and their dependencies</title>' in graph
    assert '<g class="element" data-element="a"><title>a (echo)</title>' in graph
    assert "<li>a: echo</li>" in page  # the same in words beside it
    assert '<div class="graph">' not in admin_client.get("/projects/examples/jobs/echo/").content.decode()
