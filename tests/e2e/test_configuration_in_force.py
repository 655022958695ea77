"""One configuration in force, with real masters: a second master whose configuration differs
stops, unless it declares a higher `version` or takes over; a single master restarted with a
changed configuration starts as before."""

import pytest

from tests.e2e.harness import Orchestra, free_port
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

CHANGED = {"ORCHESTRA_CONFIGURATION": "tests.e2e.changed_configuration"}
UPGRADED = {"ORCHESTRA_CONFIGURATION": "tests.e2e.upgraded_configuration"}


def holders(orchestra: Orchestra) -> dict[int, bool]:
    """pid -> holds_configuration_in_force of every live master."""
    status, body = orchestra.api("GET", "/api/masters")
    assert status == 200, body
    return {master["pid"]: master["holds_configuration_in_force"] for master in body["results"] if master["is_alive"]}


def configured(orchestra: Orchestra, project: str, job: str) -> bool:
    status, body = orchestra.api("GET", f"/api/projects/{project}/jobs/{job}")
    return status == 200 and body["is_configured"] and body["is_enabled"]


def refusal(orchestra: Orchestra, env: dict) -> str:
    """The error of a runmaster that must stop at start."""
    with pytest.raises(RuntimeError) as refused:
        orchestra.manage("runmaster", "--host", "127.0.0.1", "--port", str(free_port()), env=env)
    return str(refused.value)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_second_master_replaces_the_configuration_in_force_only_when_told_to(
    tmp_path, postgres_database,  # noqa: F811
):
    orchestra = Orchestra(tmp_path, env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    try:
        orchestra.start_master()
        first = orchestra.master.pid

        message = refusal(orchestra, CHANGED)
        assert "ORCHESTRA_CONFIGURATION (tests.e2e.changed_configuration): this master's configuration" in message
        assert "differs from the configuration in force" in message
        assert "declare a higher `version`" in message and "--take-over-configuration" in message
        assert not configured(orchestra, "changed", "added")
        assert holders(orchestra) == {first: True}

        second_url = orchestra.start_extra_master(env=CHANGED, args=("--take-over-configuration",))
        second = orchestra.extra_masters[second_url].pid
        assert configured(orchestra, "changed", "added")
        assert holders(orchestra) == {first: False, second: True}

        # The first master's configuration, restarted beside the second (a rolling upgrade's
        # old master): refused, the configuration in force stays.
        assert "differs from the configuration in force" in refusal(orchestra, {})
        assert configured(orchestra, "changed", "added")

        # A higher version takes over without being told.
        third_url = orchestra.start_extra_master(env=UPGRADED)
        third = orchestra.extra_masters[third_url].pid
        assert configured(orchestra, "upgrade", "added-in-2")
        assert not configured(orchestra, "changed", "added")
        assert holders(orchestra) == {first: False, second: False, third: True}
    finally:
        orchestra.stop()


def test_a_single_master_restarted_with_a_changed_configuration_starts_as_before(tmp_path):
    orchestra = Orchestra(tmp_path)
    try:
        orchestra.start_master()
        orchestra.kill_master()  # killed outright: its heartbeat is recent, its process gone
        orchestra.start_master(env=CHANGED)
        assert configured(orchestra, "changed", "added")
        assert holders(orchestra) == {orchestra.master.pid: True}
    finally:
        orchestra.stop()
