"""Lists filter, sort and paginate from the query string, in a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run, Status
from tests.website.conftest import add_run
from workers.models import Worker


def run_links(page: str) -> list[str]:
    return re.findall(r'<td><a href="/runs/([0-9a-f]{32})/">', page)


def test_runs_filter_by_status_project_job_worker_and_source(admin_client, populated):
    runs = populated["runs"]
    page = admin_client.get("/runs/?status=failed").content.decode()
    assert run_links(page) == [runs["failed"].identifier]
    page = admin_client.get("/runs/?status=pending&status=running").content.decode()
    # In the list's default order, newest first.
    assert run_links(page) == [runs["pipeline"].identifier, runs["pending"].identifier,
                               runs["running"].identifier]
    page = admin_client.get("/runs/?project=other").content.decode()
    assert run_links(page) == [runs["failed"].identifier]
    page = admin_client.get("/runs/?job=log-flood&worker=w1").content.decode()
    assert run_links(page) == [runs["running"].identifier]
    page = admin_client.get("/runs/?source=schedule").content.decode()
    assert run_links(page) == [runs["scheduled"].identifier]


def test_runs_filter_by_result_value(admin_client, populated):
    page = admin_client.get("/runs/?result=answer%3D42").content.decode()
    assert run_links(page) == [populated["runs"]["succeeded"].identifier]


def test_runs_filter_by_creation_date_range(admin_client, populated):
    old = populated["runs"]["failed"]
    Run.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    page = admin_client.get(f"/runs/?created_after={since}").content.decode()
    newest_first = ["child", "pipeline", "scheduled", "xss", "pending", "running", "succeeded"]
    assert run_links(page) == [populated["runs"][name].identifier for name in newest_first]
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    page = admin_client.get(f"/runs/?created_before={until}").content.decode()
    assert run_links(page) == [old.identifier]


LISTS = ["/runs/", "/projects/", "/jobs/", "/schedules/", "/workers/", "/users/", "/audit/"]


def test_invalid_filter_is_a_400_page_saying_why(admin_client, populated):
    response = admin_client.get("/runs/?result=nonsense&status=bogus")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="errors"' in page and "result:" in page and "status:" in page
    assert run_links(page) == []


@pytest.mark.parametrize("path", LISTS)
def test_every_list_refuses_what_it_cannot_use_with_a_400(admin_client, populated, path):
    for query, field in (("bogus=1", "bogus"), ("ordering=nope", "ordering"), ("page=0", "page"),
                         ("page=x", "page"), ("page=1&page=2", "page"), ("page_size=5", "page_size")):
        response = admin_client.get(f"{path}?{query}")
        assert response.status_code == 400 and f"{field}:" in response.content.decode(), query


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400"])
def test_a_result_value_no_json_number_can_hold_is_a_400(admin_client, populated, value):
    for query in (f"results__answer={value}", f"result=answer%3D{value}"):
        assert admin_client.get(f"/runs/?{query}").status_code == 400, query


def test_a_result_filter_of_the_query_string_stays_in_the_form(admin_client, populated):
    page = admin_client.get("/runs/?results__answer=42").content.decode()
    assert run_links(page) == [populated["runs"]["succeeded"].identifier]
    assert 'name="results__answer" value="42"' in page


def test_the_filter_forms_empty_fields_filter_nothing(admin_client, populated):
    """A form sends every field, the empty ones too: on the website they mean "any"."""
    page = admin_client.get("/runs/?project=&job=&worker=&source=&parent=&created_after="
                            "&created_before=&result=").content.decode()
    assert len(run_links(page)) == len(populated["runs"])


@pytest.mark.parametrize("path", LISTS)
def test_a_page_past_the_end_of_every_list_shows_the_last_page(admin_client, populated, path):
    rows = admin_client.get(path).content.decode().count("<tr>")
    for page in ("2", "9223372036854775807", "9" * 40):
        beyond = admin_client.get(f"{path}?page={page}")
        assert beyond.status_code == 200, page
        assert "in all" in beyond.content.decode() and beyond.content.decode().count("<tr>") == rows


@pytest.fixture
def sortable(populated) -> dict[str, Run]:
    """The populated runs, with columns set so that every sortable column orders them
    differently, and neither in the order they were made (and created) nor in the list's
    default order, newest first: child pipeline scheduled xss pending running failed
    succeeded. Ties fall in the order the runs were made, in the sort's direction."""
    runs = populated["runs"]
    now = timezone.now()
    made = ["succeeded", "failed", "running", "pending", "xss", "scheduled", "pipeline", "child"]
    identifiers = dict(zip(made, "52718463"))
    completed = {"succeeded": -5, "failed": -65, "xss": -35, "scheduled": -25, "child": -2}
    for number, name in enumerate(made):
        fields = {
            "identifier": identifiers[name] * 32,
            # Minutes apart: no two runs share a creation time.
            "created": now - timedelta(minutes=80 - 10 * number),
        }
        if name in completed:
            fields["completed"] = now + timedelta(minutes=completed[name])
        Run.objects.filter(pk=runs[name].pk).update(**fields)
    Run.objects.filter(pk=runs["xss"].pk).update(worker=Worker.objects.get(identifier="w2"))
    return {name: Run.objects.get(pk=runs[name].pk) for name in made}


# Each column's ascending order of the `sortable` runs; descending is its exact reverse.
ASCENDING = {
    "identifier": ["pending", "failed", "child", "scheduled", "succeeded", "pipeline", "running", "xss"],
    # examples, other
    "project": ["succeeded", "running", "pending", "xss", "scheduled", "pipeline", "child", "failed"],
    # build, echo, log-flood, pipeline-diamond
    "job": ["failed", "succeeded", "xss", "scheduled", "child", "running", "pending", "pipeline"],
    # failed, pending, running, succeeded
    "status": ["failed", "pending", "running", "pipeline", "succeeded", "xss", "scheduled", "child"],
    # no worker, w1, w2
    "worker": ["pending", "scheduled", "pipeline", "succeeded", "failed", "running", "child", "xss"],
    # pipeline, schedule, user
    "source": ["child", "scheduled", "succeeded", "failed", "running", "pending", "xss", "pipeline"],
    "created": ["succeeded", "failed", "running", "pending", "xss", "scheduled", "pipeline", "child"],
    # not completed first
    "completed": ["running", "pending", "pipeline", "failed", "xss", "scheduled", "succeeded", "child"],
}


def test_every_runs_column_is_checked_by_the_sort_test(admin_client, populated):
    page = admin_client.get("/runs/").content.decode()
    assert re.findall(r'<th><a href="\?ordering=(\w+)"', page) == list(ASCENDING)


@pytest.mark.parametrize("column", ASCENDING)
def test_every_runs_column_sorts_both_ways(admin_client, sortable, column):
    names = {run.identifier: name for name, run in sortable.items()}
    for ordering, expected in ((column, ASCENDING[column]), (f"-{column}", ASCENDING[column][::-1])):
        page = admin_client.get(f"/runs/?ordering={ordering}").content.decode()
        assert [names[identifier] for identifier in run_links(page)] == expected, ordering


def test_sort_header_flips_direction_and_keeps_filters(admin_client, populated):
    page = admin_client.get("/runs/?status=succeeded&ordering=created&page=1").content.decode()
    assert 'href="?status=succeeded&amp;ordering=-created"' in page
    page = admin_client.get("/runs/?status=succeeded&ordering=-created").content.decode()
    assert 'href="?status=succeeded&amp;ordering=created"' in page


def test_pagination_keeps_filters_and_sort(admin_client, populated):
    echo = populated["echo"]
    # Oldest first: the populated failed run, then these in the order they were made.
    expected = [populated["runs"]["failed"].identifier]
    for number in range(120):
        expected.append(add_run(echo, Status.FAILED, parameters={"text": str(number)}).identifier)
    page = admin_client.get("/runs/?status=failed&ordering=created").content.decode()
    # The list is not counted: a page knows whether another follows, the last one the total.
    assert "<span>page 1</span>" in page
    assert 'href="?status=failed&amp;ordering=created&amp;page=2" rel="next"' in page
    second = admin_client.get("/runs/?status=failed&ordering=created&page=2").content.decode()
    assert 'href="?status=failed&amp;ordering=created&amp;page=1" rel="prev"' in second
    last = admin_client.get("/runs/?status=failed&ordering=created&page=3").content.decode()
    assert [run_links(page), run_links(second), run_links(last)] == [
        expected[:50], expected[50:100], expected[100:]
    ]
    assert "page 3 of 3 (121)" in last and 'rel="next"' not in last
    beyond = admin_client.get("/runs/?status=failed&ordering=created&page=9").content.decode()
    assert run_links(beyond) == expected[100:]
    assert "1 in all" in admin_client.get("/runs/?project=other").content.decode()


def test_runs_list_query_count_does_not_grow_with_runs(admin_client, populated):
    def queries(url):
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(url).status_code == 200
        return len(context.captured_queries)

    few = queries("/runs/")
    for number in range(40):
        add_run(populated["flood"], Status.SUCCEEDED, worker=populated["worker"])
    assert queries("/runs/") == few
    # Session token and user, permissions, the page's keys (no count), then its rows, and
    # the usual durations of the jobs of its running runs (one query, however many jobs)...
    assert few == 5, few
    # ...which a page without a running run does without.
    assert queries("/runs/?status=succeeded&ordering=-worker") == 4


def row_links(page: str, pattern: str) -> list[str]:
    """The first link of each table row that matches `pattern` (a path with one group)."""
    return re.findall(r'<tr><td><a href="' + pattern + '">', page)


def test_other_lists_filter_and_sort(admin_client, populated):
    def jobs(query: str) -> list[str]:
        page = admin_client.get(f"/jobs/{query}").content.decode()
        return [f"{project}/{job}" for project, job in
                re.findall(r'<td><a href="/projects/([\w-]+)/jobs/([\w-]+)/">', page)]

    def workers(query: str) -> list[str]:
        return row_links(admin_client.get(f"/workers/{query}").content.decode(), r"/workers/([\w-]+)/")

    def projects(query: str) -> list[str]:
        return row_links(admin_client.get(f"/projects/{query}").content.decode(), r"/projects/([\w-]+)/")

    assert jobs("?project=other") == ["other/build"]
    # The default order is by project, then job: the sorts below differ from it.
    assert jobs("") == ["examples/echo", "examples/log-flood", "examples/pipeline-diamond", "other/build"]
    assert jobs("?ordering=identifier") == [
        "other/build", "examples/echo", "examples/log-flood", "examples/pipeline-diamond"
    ]
    assert jobs("?ordering=-identifier") == [
        "examples/pipeline-diamond", "examples/log-flood", "examples/echo", "other/build"
    ]
    assert workers("?enabled=false") == ["w2"]
    assert workers("") == ["w1", "w2"] and workers("?ordering=-identifier") == ["w2", "w1"]
    assert projects("") == ["examples", "other"]
    assert projects("?ordering=-identifier") == ["other", "examples"]


def test_pages_query_counts_do_not_grow_with_runs(admin_client, populated):
    run = populated["runs"]["succeeded"]
    urls = ["/", f"/runs/{run.identifier}/", "/projects/examples/", "/projects/examples/jobs/echo/",
            "/workers/w1/", "/schedules/"]

    def counts():
        result = {}
        for url in urls:
            with CaptureQueriesContext(connection) as context:
                assert admin_client.get(url).status_code == 200
            result[url] = len(context.captured_queries)
        return result

    before = counts()
    for number in range(30):
        add_run(populated["echo"], Status.FAILED, worker=populated["worker"],
                parameters={"text": str(number)})
        add_run(populated["echo"], Status.RUNNING, worker=populated["worker"])
    assert counts() == before
