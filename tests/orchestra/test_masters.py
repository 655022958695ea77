"""The master registry (orchestra/masters.py): liveness by heartbeat, a stop, the dead processes
of this host, the refusal of a second master without Redis, housekeeping."""

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from orchestra import VERSION, masters
from orchestra.applications import ALL, MASTER, SERVICE
from orchestra.database import insert
from orchestra.models import Master

pytestmark = [pytest.mark.django_db, pytest.mark.database]


def alive(master: Master) -> bool:
    return masters.listed().get(pk=master.pk).is_alive


def age(master: Master, seconds: float) -> None:
    """Make the master's last heartbeat `seconds` old."""
    Master.objects.filter(pk=master.pk).update(heartbeat=timezone.now() - timedelta(seconds=seconds))


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_master_records_its_host_pid_applications_and_version():
    master = masters.register(frozenset({SERVICE, MASTER}), fingerprint="f" * 64)
    assert (master.host, master.pid, master.serves, master.version, master.fingerprint) == (
        socket.gethostname(), os.getpid(), "service,master", VERSION, "f" * 64,
    )
    assert master.served_applications == ["service", "master"]
    assert master.started == master.heartbeat and master.stopped is None


def test_a_master_is_gone_once_its_heartbeat_is_older_than_the_threshold(settings):
    settings.MASTER_GONE_AFTER = 30
    master = masters.register(ALL)
    age(master, 25)
    assert alive(master)
    assert list(masters.live_masters()) == [master]
    age(master, 35)
    assert not alive(master)
    assert list(masters.live_masters()) == []
    masters.beat(master)
    assert alive(master)


def test_the_heartbeat_comes_several_times_within_the_threshold(settings):
    settings.MASTER_GONE_AFTER = 60
    assert masters.heartbeat_seconds() == 15
    settings.MASTER_GONE_AFTER = 4
    assert masters.heartbeat_seconds() == 1


def test_a_master_that_recorded_its_stop_is_gone_at_once():
    master = masters.register(ALL)
    masters.record_stop(master)
    assert not alive(master)


def test_a_heartbeat_brings_back_a_master_marked_stopped_or_deleted():
    master = masters.register(ALL)
    masters.record_stop(master)
    masters.beat(master)
    assert alive(master)
    Master.objects.all().delete()
    masters.beat(master)
    [again] = Master.objects.all()
    assert (again.host, again.pid, again.serves) == (master.host, master.pid, master.serves)
    assert alive(again)


def test_a_master_of_this_host_whose_process_ended_is_marked_gone_when_another_starts():
    killed, elsewhere, living = insert([
        Master(host=host, pid=pid, serves="master", version=VERSION, started=Now(), heartbeat=Now())
        for host, pid in ((socket.gethostname(), dead_pid()), ("elsewhere.example", dead_pid()),
                          (socket.gethostname(), os.getppid()))
    ])
    master = masters.register(ALL)
    assert [alive(row) for row in (killed, elsewhere, living, master)] == [False, True, True, True]


def test_a_second_master_without_redis_is_told_why_it_must_not_start(settings):
    settings.REDIS_URL = ""
    first = masters.register(ALL)
    second = masters.register(ALL)
    message = masters.second_master_without_redis(second)
    assert f"another master is alive on this database: {first} (serving website,service,master)" in message
    assert "ORCHESTRA_REDIS_URL" in message
    assert "dispatch sweep (ORCHESTRA_DISPATCH_SWEEP_SECONDS)" in message
    # Alone, or beside a master that is gone, or with Redis: it may start.
    masters.record_stop(first)
    assert masters.second_master_without_redis(second) == ""
    masters.beat(first)
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert masters.second_master_without_redis(second) == ""


def test_housekeeping_deletes_masters_gone_for_more_than_a_week():
    week = timedelta(days=7)
    now = timezone.now()
    rows = {
        name: Master.objects.create(host=name, pid=1, serves="master", version=VERSION,
                                    started=now - 2 * week, heartbeat=heartbeat, stopped=stopped)
        for name, heartbeat, stopped in [
            ("silent-long-ago", now - week - timedelta(hours=1), None),
            ("stopped-long-ago", now - 2 * week, now - week - timedelta(hours=1)),
            ("stopped-yesterday", now - timedelta(days=1), now - timedelta(days=1)),
            ("silent-yesterday", now - timedelta(days=1), None),
            ("alive", now, None),
        ]
    }
    assert masters.delete_gone_masters() == 2
    assert sorted(Master.objects.values_list("host", flat=True)) == sorted(
        name for name in rows if "long-ago" not in name
    )
