"""A consumer told by dispatch to offer runs sends each `run.start` once per connection, from the
requests that came with the hint (no database read) or read from the database."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User

from orchestra.asgi import application
from orchestra.audit import SYSTEM
from orchestra.tokens import create_token
from projects.models import Job, Project
from runs.actions import do_trigger_run
from runs.models import Run
from workers.models import Worker
from workers.sync import run_request

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def worker_token() -> str:
    user = User.objects.create_user("builder")
    user.groups.set(Group.objects.filter(name="worker"))
    return create_token(user)[1]


@database_sync_to_async
def trigger() -> Run:
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="J",
                             steps=[{"name": "s", "command": ["true"]}])
    return do_trigger_run(job, {}, SYSTEM)


@database_sync_to_async
def channel_of(identifier: str) -> str:
    return Worker.objects.get(identifier=identifier).channel_name


async def connected_worker() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/master/", headers=[(b"authorization", f"Bearer {await worker_token()}".encode())]
    )
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "hello", "id": 1, "identifier": "w1", "executors": 2,
                                     "properties": {}, "version": "test", "runs": []})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "response"
    return communicator


async def test_an_offer_with_its_requests_starts_each_run_once_per_connection():
    communicator = await connected_worker()
    run = await trigger()  # dispatch claims it for w1 and sends its request with the offer
    offer = await communicator.receive_json_from(timeout=10)
    assert (offer["type"], offer["run"]) == ("run.start", await database_sync_to_async(run_request)(run))
    # The same offer again (another master's sweep, a repeated hint): already offered here.
    await get_channel_layer().send(await channel_of("w1"), {
        "type": "run.offer", "runs": [offer["run"]],
    })
    await get_channel_layer().send(await channel_of("w1"), {"type": "run.offer"})
    await asyncio.sleep(0.5)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
