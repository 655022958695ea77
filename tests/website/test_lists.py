"""Lists filter, sort and paginate from the query string, in a fixed number of queries."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run, Status
from tests.website.conftest import add_run


def run_links(page: str) -> list[str]:
    return re.findall(r'<td><a href="/runs/([0-9a-f]{32})/">', page)


def test_runs_filter_by_status_project_job_worker_and_source(admin_client, populated):
    runs = populated["runs"]
    page = admin_client.get("/runs/?status=failed").content.decode()
    assert run_links(page) == [runs["failed"].identifier]
    page = admin_client.get("/runs/?status=pending&status=running").content.decode()
    assert set(run_links(page)) == {runs["running"].identifier, runs["pending"].identifier,
                                    runs["pipeline"].identifier}
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
    assert old.identifier not in run_links(page)
    assert len(run_links(page)) == Run.objects.count() - 1
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    page = admin_client.get(f"/runs/?created_before={until}").content.decode()
    assert run_links(page) == [old.identifier]


def test_invalid_filter_is_shown_not_crashing(admin_client, populated):
    response = admin_client.get("/runs/?result=nonsense&status=bogus")
    assert response.status_code == 200
    assert 'class="errors"' in response.content.decode()


def test_every_runs_column_sorts_both_ways(admin_client, populated):
    for column in ("identifier", "project", "job", "status", "worker", "source", "created",
                   "completed"):
        ascending = run_links(admin_client.get(f"/runs/?ordering={column}").content.decode())
        descending = run_links(admin_client.get(f"/runs/?ordering=-{column}").content.decode())
        assert sorted(ascending) == sorted(descending)
    by_status = run_links(admin_client.get("/runs/?ordering=status").content.decode())
    statuses = [Run.objects.get(identifier=identifier).status for identifier in by_status]
    assert statuses == sorted(statuses)
    by_status = run_links(admin_client.get("/runs/?ordering=-status").content.decode())
    statuses = [Run.objects.get(identifier=identifier).status for identifier in by_status]
    assert statuses == sorted(statuses, reverse=True)


def test_sort_header_flips_direction_and_keeps_filters(admin_client, populated):
    page = admin_client.get("/runs/?status=succeeded&ordering=created&page=1").content.decode()
    assert 'href="?status=succeeded&amp;ordering=-created"' in page
    page = admin_client.get("/runs/?status=succeeded&ordering=-created").content.decode()
    assert 'href="?status=succeeded&amp;ordering=created"' in page


def test_pagination_keeps_filters_and_sort(admin_client, populated):
    echo = populated["echo"]
    for number in range(120):
        add_run(echo, Status.FAILED, parameters={"text": str(number)})
    page = admin_client.get("/runs/?status=failed&ordering=created").content.decode()
    # The list is not counted: a page knows whether another follows, the last one the total.
    assert "<span>page 1</span>" in page
    assert 'href="?status=failed&amp;ordering=created&amp;page=2" rel="next"' in page
    second = admin_client.get("/runs/?status=failed&ordering=created&page=2").content.decode()
    first_ids, second_ids = run_links(page), run_links(second)
    assert len(first_ids) == len(second_ids) == 50 and not set(first_ids) & set(second_ids)
    assert 'href="?status=failed&amp;ordering=created&amp;page=1" rel="prev"' in second
    last = admin_client.get("/runs/?status=failed&ordering=created&page=3").content.decode()
    assert len(run_links(last)) == 121 - 100
    assert "page 3 of 3 (121)" in last and 'rel="next"' not in last
    beyond = admin_client.get("/runs/?status=failed&ordering=created&page=9").content.decode()
    assert run_links(beyond) == run_links(last)
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
    assert queries("/runs/?status=succeeded&ordering=-worker") == few
    # Session token and user, permissions (two), the page's keys (no count), then its rows.
    assert few == 5, few


def test_other_lists_filter_and_sort(admin_client, populated):
    page = admin_client.get("/jobs/?project=other").content.decode()
    assert "/projects/other/jobs/build/" in page and "/jobs/echo/" not in page
    page = admin_client.get("/jobs/?ordering=-identifier").content.decode()
    assert page.index("/jobs/pipeline-diamond/") < page.index("/jobs/echo/")
    page = admin_client.get("/workers/?enabled=false").content.decode()
    assert 'href="/workers/w2/"' in page and 'href="/workers/w1/"' not in page
    page = admin_client.get("/workers/?ordering=-identifier").content.decode()
    assert page.index('href="/workers/w2/"') < page.index('href="/workers/w1/"')
    page = admin_client.get("/projects/?ordering=-identifier").content.decode()
    assert page.index('href="/projects/other/"') < page.index('href="/projects/examples/"')


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
