"""Rows that older versions stored without today's checks (a worker identifier with '/',
texts with lone surrogates on SQLite) are repaired by the data migrations, after which every
page and list shows them."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from orchestra.models import AuditEvent
from runs.models import Run
from tests.api.conftest import ServiceClient, make_user
from workers.models import Worker

pytestmark = pytest.mark.database

repair_workers = importlib.import_module("workers.migrations.0002_valid_worker_values").repair_workers
repair_runs = importlib.import_module("runs.migrations.0009_repair_lone_surrogates").repair_runs
repair_audit = importlib.import_module("orchestra.migrations.0003_repair_lone_surrogates").repair_audit

PAGES = ["/", "/workers/", "/runs/", "/audit/"]
SERVICE = ["/api/workers", "/api/runs", "/api/audit"]


def assert_every_page_answers(admin_client, service, *extra) -> None:
    for path in [*PAGES, *extra]:
        assert admin_client.get(path).status_code == 200, path
    for path in SERVICE:
        assert service.get(path).status_code == 200, path


@pytest.fixture
def service(db):
    return ServiceClient(make_user("auditor-user", "administrator")[1])


def test_workers_outside_the_rule_are_renamed_and_emptied(admin_client, populated, service):
    Worker.objects.create(identifier="a-b")
    bad = {
        "a/b": Worker.objects.create(identifier="a/b", properties={"pool": "x" * 900_000}),
        "<script>": Worker.objects.create(identifier="<script>", version="v\x07"),
        "   ": Worker.objects.create(identifier="   "),
        "a b\x00": Worker.objects.create(identifier="a b\x07", properties={"ok": "yes"}),
        "_hidden": Worker.objects.create(identifier="_hidden"),
        "long": Worker.objects.create(identifier="é" * 100),
    }
    repair_workers(apps, None)
    renamed = {key: Worker.objects.get(pk=worker.pk) for key, worker in bad.items()}
    assert {key: worker.identifier for key, worker in renamed.items()} == {
        "a/b": "a-b-2", "<script>": "script", "   ": "worker", "a b\x00": "a-b-3",
        "_hidden": "hidden", "long": "worker-2",
    }
    assert renamed["a/b"].properties == {} and renamed["<script>"].version == ""
    assert renamed["a b\x00"].properties == {"ok": "yes"}
    assert_every_page_answers(admin_client, service, *(
        f"/workers/{worker.identifier}/" for worker in renamed.values()
    ))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite stores lone surrogates")
def test_lone_surrogates_stored_on_sqlite_are_replaced(admin_client, populated, service):
    run = populated["runs"]["succeeded"]
    # As older versions stored them: json.dumps escapes the surrogate, SQLite keeps the text.
    Run.objects.filter(pk=run.pk).update(
        parameters={"text": "a\ud800b", "fine": "caf\u00e9 \U0001f600"},
        results={"\udfffkey": ["x\ud83d"]},
    )
    AuditEvent.objects.create(actor_name="olga", action="run.trigger", target=run.identifier,
                              details={"parameters": {"text": "a\ud800b"}})
    Worker.objects.filter(pk=populated["worker"].pk).update(properties={"pool": "\ud800"})
    repair_runs(apps, None)
    repair_audit(apps, None)
    repair_workers(apps, None)
    run.refresh_from_db()
    assert run.parameters == {"text": "a\ufffdb", "fine": "caf\u00e9 \U0001f600"}
    assert run.results == {"\ufffdkey": ["x\ufffd"]}
    assert AuditEvent.objects.get(action="run.trigger").details == {"parameters": {"text": "a\ufffdb"}}
    assert Worker.objects.get(pk=populated["worker"].pk).properties == {}
    assert_every_page_answers(admin_client, service, run.get_absolute_url(),
                              f"/api/runs/{run.identifier}")
