"""Issue 15's pictures in a real browser, with JavaScript enabled and disabled: the progress of a
running run, a job's history, and a pipeline's graph before any run."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import poll

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PROGRESS_TEXT = re.compile(r"elapsed, (about \d+ s left|over the usual time by \d+ s)")


@pytest.fixture(scope="module")
def earlier_runs(orchestra) -> list[str]:
    """Two succeeded runs of slow-count, about 2 s each: its usual time."""
    runs = [orchestra.trigger("examples", "slow-count", {"lines": 2, "delay": 1})["identifier"]
            for _ in range(2)]
    for identifier in runs:
        assert orchestra.wait_for_run(identifier, timeout=90)["status"] == "succeeded"
    return runs


@pytest.fixture
def running_run(orchestra, earlier_runs):
    identifier = orchestra.trigger("examples", "slow-count", {"lines": 300, "delay": 1})["identifier"]
    try:
        orchestra.wait_for_run(identifier, statuses=("running",), timeout=60)
        # The run is running a moment before its first step says so: pages read once (without
        # JavaScript) must find the step running too.
        poll(lambda: orchestra.run(identifier)["steps"][0]["status"] == "running" or None, 60,
             lambda: f"the first step of {identifier} did not start")
        yield identifier
    finally:
        status, body = orchestra.api("POST", f"/api/runs/{identifier}/abort")
        assert status in (200, 202), (status, body)
        orchestra.wait_for_run(identifier, timeout=90)


def test_a_running_run_shows_its_progress_on_its_page_in_the_runs_list_and_on_the_overview(page, running_run):
    page.goto(f"/runs/{running_run}/")
    bar = page.locator("dl.facts progress")
    expect(bar).to_have_count(1)
    expect(page.locator("dl.facts [data-progress]")).to_have_text(PROGRESS_TEXT)
    expect(page.locator("table progress")).to_have_count(1)  # its running step
    # Past its usual 2 s, it says so: moved on by the script, or by the page's refresh.
    expect(page.locator("dl.facts [data-progress]")).to_contain_text("over the usual time", timeout=30_000)
    assert bar.get_attribute("max") == bar.evaluate("element => String(element.max.toFixed(1))")

    for path in ("/runs/", "/"):
        page.goto(path)
        row = page.locator(f'tr:has(a[href="/runs/{running_run}/"])')
        expect(row.locator("progress")).to_have_count(1)
        expect(row.locator("[data-progress]")).to_have_text(PROGRESS_TEXT)
    if page.javascript:
        # On the overview the text moves on without a reload.
        page.evaluate("window.stillTheSamePage = true")
        text = page.locator(f'tr:has(a[href="/runs/{running_run}/"]) [data-progress]')
        before = text.text_content()
        expect(text).not_to_have_text(before, timeout=30_000)
        assert page.evaluate("window.stillTheSamePage") is True
    else:
        assert page.locator("noscript").count() == 1


def test_the_job_page_shows_its_history_with_a_link_to_each_run(page, orchestra, earlier_runs):
    page.goto("/projects/examples/jobs/slow-count/")
    chart = page.locator("svg.history-chart")
    expect(chart).to_be_visible()
    links = chart.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert [f"/runs/{identifier}/" for identifier in earlier_runs] == links[:2]
    expect(page.locator("figure.history figcaption")).to_contain_text("succeeded")
    chart.locator(f'a[href="/runs/{earlier_runs[0]}/"]').click()
    page.wait_for_url(f"**/runs/{earlier_runs[0]}/")


def test_the_diamond_pipelines_job_page_shows_its_graph_before_any_run(page):
    page.goto("/projects/examples/jobs/pipeline-diamond/")
    expect(page.get_by_text("No runs yet.")).to_be_visible()  # nothing in this installation ran it
    graph = page.locator(".graph svg")
    expect(graph).to_be_visible()
    elements = graph.locator("g.element")
    assert elements.evaluate_all("groups => groups.map(group => group.dataset.element)") == ["a", "b", "c", "d"]
    expect(elements.nth(3)).to_contain_text("echo")
    assert graph.locator("line.dependency").count() == 4
    assert graph.locator("title").first.text_content().startswith("Pipeline pipeline-diamond")
