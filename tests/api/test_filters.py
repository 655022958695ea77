"""The FilterSets work on a plain QueryDict, as the website uses them."""

import pytest
from django.db import connection
from django.http import QueryDict

from orchestra.filters import AuditEventFilter, UserFilter
from orchestra.models import AuditEvent
from runs.filters import RunFilter
from runs.models import Run, Status
from tests.api.conftest import make_run

pytestmark = pytest.mark.database


def test_run_filter_on_a_query_string(catalogue):
    wanted = make_run(catalogue["hello"], status=Status.FAILED, results={"answer": 42, "os": "linux"})
    make_run(catalogue["hello"], status=Status.FAILED, results={"answer": 42, "os": "mac"})
    make_run(catalogue["hello"], results={"answer": 42, "os": "linux"})
    query = QueryDict("status=failed&results__answer=42&results__os=linux&ordering=-created")
    runs = RunFilter(query, queryset=Run.objects.all()).qs
    assert list(runs) == [wanted]


def test_run_filter_reports_invalid_values_on_its_form(catalogue):
    filterset = RunFilter(QueryDict("status=nope&result=no-equals-sign"), queryset=Run.objects.all())
    assert not filterset.is_valid()
    assert set(filterset.errors) == {"status", "result"}


def test_a_result_value_matches_as_text_and_as_json(catalogue):
    number = make_run(catalogue["hello"], results={"flag": True, "ratio": 0.5})
    text = make_run(catalogue["hello"], results={"flag": "true", "ratio": "0.5"})
    for query in ("results__flag=true", "results__ratio=0.5", "result=flag%3Dtrue"):
        assert set(RunFilter(QueryDict(query), queryset=Run.objects.all()).qs) == {number, text}, query


def test_user_and_audit_filters(users):
    AuditEvent.objects.create(actor_name="ana", action="user.create", target="bob")
    AuditEvent.objects.create(actor_name="ana", action="login", target="ana")
    events = AuditEventFilter(QueryDict("action=user.&actor=ana"), queryset=AuditEvent.objects.all()).qs
    assert [event.target for event in events] == ["bob"]
    from django.contrib.auth.models import User

    users_found = UserFilter(QueryDict("role=auditor"), queryset=User.objects.all()).qs
    assert [user.username for user in users_found] == ["auditor-user"]


def test_a_result_key_that_is_a_number_indexes_an_array(catalogue):
    listed = make_run(catalogue["hello"], results={"targets": ["linux", "mac"]})
    make_run(catalogue["hello"], results={"targets": ["mac", "linux"]})
    runs = RunFilter(QueryDict("results__targets__0=linux"), queryset=Run.objects.all()).qs
    assert list(runs) == [listed]


def test_runs_not_completed_sort_as_the_earliest_on_every_database(catalogue):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    early = make_run(catalogue["hello"], completed=now - timedelta(hours=1))
    late = make_run(catalogue["hello"], completed=now)
    active = make_run(catalogue["hello"], status=Status.RUNNING)
    for ordering, expected in (("-completed", [late, early, active]),
                               ("completed", [active, early, late])):
        runs = RunFilter(QueryDict(f"ordering={ordering}"), queryset=Run.objects.all()).qs
        assert list(runs) == expected, ordering


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_a_result_value_no_json_number_can_hold_is_refused(service, catalogue, value):
    """JSON holds no NaN nor infinity, so no stored result can equal one: the database was
    asked anyway (SQLite: malformed JSON; PostgreSQL: invalid jsonb) and the list was a 500."""
    make_run(catalogue["hello"], results={"answer": 42})
    for name, query in (("results__answer", value), ("result", f"answer={value}")):
        response = service("viewer").get("/api/runs", {name: query})
        assert response.status_code == 400 and response.json()["field"] == name, response.content


@pytest.mark.parametrize("name", ["results__", "results____answer", "results__answer__", "results__a\x00b"])
def test_a_result_filter_without_a_usable_key_is_refused(service, catalogue, name):
    make_run(catalogue["hello"], results={"answer": 42})
    response = service("viewer").get("/api/runs", {name: "42"})
    assert response.status_code == 400 and response.json()["field"] == name, response.content


def test_result_values_that_are_large_numbers_or_look_like_json_still_match_as_text(service, catalogue):
    # MongoDB stores integers of 64 bits at most (the master refuses larger results there).
    large = 2**63 - 1 if connection.vendor == "mongodb" else 10**30
    big = make_run(catalogue["hello"], results={"answer": large, "note": "[1]"})
    for query in ({"results__answer": str(large)}, {"results__note": "[1]"}, {"result": "note=[1]"}):
        found = service("viewer").get("/api/runs", query).json()["results"]
        assert [run["identifier"] for run in found] == [big.identifier], query
