"""Issue 6's browser flows, each with JavaScript enabled and disabled, on a real installation."""

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

XSS = "<script>alert(1)</script>"


def run_identifier(page) -> str:
    return re.search(r"/runs/([0-9a-f]{32})/", page.url).group(1)


def test_trigger_with_a_parameter_and_watch_the_log_live(page, orchestra):
    page.goto("/projects/examples/jobs/slow-count/")
    page.fill("input[name=lines]", "8")
    page.fill("input[name=delay]", "1")
    page.get_by_role("button", name="Trigger").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{32}/$"))
    identifier = run_identifier(page)
    assert orchestra.run(identifier)["parameters"] == {"lines": 8, "delay": 1}

    page.get_by_role("link", name="Log", exact=True).click()
    page.wait_for_url(f"**/runs/{identifier}/log/")
    if page.javascript:
        page.evaluate("window.stillTheSamePage = true")
    log = page.locator("pre[data-log]")
    expect(log).to_contain_text("line 1", timeout=30_000)
    shown = log.text_content()
    assert "line 1" in shown and "line 8" not in shown  # the run is still going
    assert orchestra.run(identifier)["status"] in ("pending", "running", "succeeded")

    expect(log).to_contain_text("line 8", timeout=30_000)
    expect(page.locator("[data-run-status]")).to_have_text("succeeded", timeout=30_000)
    assert log.text_content().count("line ") == 8  # every line once, nothing repeated
    if page.javascript:
        assert page.evaluate("window.stillTheSamePage") is True  # appended, never reloaded
    else:
        page.reload()
        assert page.locator("meta[http-equiv=refresh]").count() == 0  # stops once ended


def test_filter_runs_by_status_and_sort_by_a_column(page, orchestra):
    failed = orchestra.trigger("examples", "fail")["identifier"]
    echoed = orchestra.trigger("examples", "echo", {"text": "sorting"})["identifier"]
    orchestra.wait_for_run(failed)
    orchestra.wait_for_run(echoed)

    page.goto("/runs/")
    page.select_option("select[name=status]", ["failed"])
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status=failed"))
    statuses = page.locator("table.runs tbody td:nth-child(4)").all_text_contents()
    assert statuses and set(statuses) == {"failed"}
    assert page.locator(f'a[href="/runs/{failed}/"]').count() == 1
    assert page.locator(f'a[href="/runs/{echoed}/"]').count() == 0

    page.goto("/runs/")
    page.get_by_role("link", name="Job", exact=True).click()
    page.wait_for_url(re.compile(r"ordering=job"))
    jobs = page.locator("table.runs tbody td:nth-child(3)").all_text_contents()
    assert jobs == sorted(jobs)
    page.get_by_role("link", name="Job ▲").click()
    page.wait_for_url(re.compile(r"ordering=-job"))
    jobs = page.locator("table.runs tbody td:nth-child(3)").all_text_contents()
    assert jobs == sorted(jobs, reverse=True) and len(set(jobs)) > 1


def test_download_the_archive_and_open_it(page, orchestra):
    identifier = orchestra.trigger("examples", "echo", {"text": "archived"})["identifier"]
    orchestra.wait_for_run(identifier)
    page.goto(f"/runs/{identifier}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download archive").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read()))
    assert json.loads(archive.read("run.json"))["identifier"] == identifier
    assert json.loads(archive.read("results.json")) == {"text": "archived"}
    assert archive.read("logs/0-echo.log") == b"archived\n"


def test_open_a_pipeline_run_and_find_its_graph(page, orchestra):
    identifier = orchestra.trigger("examples", "pipeline-diamond")["identifier"]
    orchestra.wait_for_run(identifier)
    page.goto(f"/runs/{identifier}/")
    graph = page.locator(".graph svg")
    expect(graph).to_be_visible()
    expect(graph).to_contain_text("d")
    children = graph.locator("a")
    assert children.count() == 4
    children.first.click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{32}/$"))
    assert run_identifier(page) != identifier
    expect(page.get_by_text("part of pipeline")).to_be_visible()


def test_script_in_parameters_results_and_log_renders_as_text(page, orchestra):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/projects/examples/jobs/echo/")
    page.fill("input[name=text]", XSS)
    page.get_by_role("button", name="Trigger").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{32}/$"))
    identifier = run_identifier(page)
    orchestra.wait_for_run(identifier)
    for path in (f"/runs/{identifier}/", f"/runs/{identifier}/log/", "/runs/", "/",
                 "/projects/examples/jobs/echo/", f"/runs/?result=text%3D{XSS}"):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto(f"/runs/{identifier}/")
    expect(page.locator("table.pairs td", has_text=XSS)).to_have_count(2)  # parameter, result
    page.goto(f"/runs/{identifier}/log/")
    expect(page.locator("pre[data-log]")).to_have_text(XSS + "\n")
    assert dialogs == []


def test_log_in_through_the_login_page(browser, orchestra):
    context = browser.new_context(base_url=orchestra.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/runs/")
    page.wait_for_url(re.compile(r"/login/\?next=/runs/"))
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-password-e2e")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/runs/$"))
    expect(page.locator("h1")).to_have_text("Runs")
    context.close()


def test_abort_a_running_run_from_its_page(page, orchestra):
    identifier = orchestra.trigger("examples", "slow-count", {"lines": 60, "delay": 1})["identifier"]
    orchestra.wait_for_run(identifier, statuses=("running",))
    page.goto(f"/runs/{identifier}/")
    page.get_by_role("button", name="Abort").click()
    page.wait_for_url(f"**/runs/{identifier}/")
    assert orchestra.wait_for_run(identifier)["status"] == "aborted"
    page.goto(f"/runs/{identifier}/")
    expect(page.locator("[data-run-status]")).to_have_text("aborted")
    assert page.get_by_role("button", name="Abort").count() == 0
