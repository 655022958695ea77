"""A run's secrets go to its worker in the run request, from the values the master holds, and
nowhere else; a run whose secret this master does not hold ends `exception`, saying why."""

import pytest
from channels.db import database_sync_to_async

from orchestra.audit import SYSTEM
from projects.definitions import Secret
from projects.models import Job, Project
from projects.secrets import SecretValues, hold
from runs.actions import do_trigger_run
from runs.models import Run, Status
from tests.workers.master_endpoint import connect, hello, reload, wait_for, worker_user

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held_secrets():
    values = SecretValues({"DEPLOY_KEY_VALUE": "k3y-value"})
    values.declare(Secret("deploy-key", environment="DEPLOY_KEY_VALUE"), "secrets.KEY")
    hold(values)
    yield
    hold(SecretValues({}))


@database_sync_to_async
def trigger_with_secrets(secrets: dict) -> Run:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    job = Job.objects.create(
        project=project, identifier="deploy", display_name="Deploy", secrets=secrets,
        steps=[{"name": "push", "command": ["true"]}],
    )
    return do_trigger_run(job, {}, SYSTEM)


async def test_the_run_request_carries_the_values_of_the_jobs_secrets(held_secrets):
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger_with_secrets({"KEY": "deploy-key"})
    offer = await communicator.receive_json_from(timeout=5)
    assert offer["run"]["identifier"] == run.identifier
    assert offer["run"]["secrets"] == {"KEY": "k3y-value"}
    stored = await reload(run)
    assert "k3y-value" not in repr(stored.__dict__)
    await communicator.disconnect()


async def test_a_run_whose_secret_the_master_does_not_hold_ends_in_exception(held_secrets):
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger_with_secrets({"KEY": "deploy-key", "OTHER": "elsewhere"})
    ended = await wait_for(run, lambda run: run.status == Status.EXCEPTION)
    assert ended.status_message == (
        "the master has no secret 'elsewhere' (for the variable OTHER): is every master started with it?"
    )
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
