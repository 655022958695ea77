"""GET /api/masters: the master registry, for administrators only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestra import masters
from orchestra.applications import ALL, MASTER
from orchestra.models import Master

pytestmark = pytest.mark.django_db


def test_administrators_read_every_master_alive_or_gone(service, settings):
    settings.MASTER_GONE_AFTER = 30
    gone = masters.register(frozenset({MASTER}), fingerprint="a" * 64)
    Master.objects.filter(pk=gone.pk).update(heartbeat=timezone.now() - timedelta(seconds=31))
    alive = masters.register(ALL, fingerprint="b" * 64)
    response = service("administrator").get("/api/masters")
    assert response.status_code == 200, response.content
    listed = [
        (master["host"], master["pid"], master["serves"], master["fingerprint"], master["is_alive"])
        for master in response.json()["results"]
    ]
    assert listed == [
        (alive.host, alive.pid, ["website", "service", "master"], "b" * 64, True),
        (gone.host, gone.pid, ["master"], "a" * 64, False),
    ]
    first = response.json()["results"][0]
    assert set(first) == {
        "host", "pid", "serves", "version", "fingerprint", "holds_configuration_in_force", "started",
        "heartbeat", "stopped", "is_alive",
    }


@pytest.mark.parametrize("role", ["viewer", "operator", "auditor", "worker", None])
def test_other_roles_may_not_read_the_registry(service, role):
    masters.register(ALL)
    response = service(role).get("/api/masters")
    assert response.status_code in (401, 403)
    assert "host" not in response.content.decode()
