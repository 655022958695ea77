"""Driving the master's worker endpoint (/ws/master/) in tests with channels'
WebsocketCommunicator, in the process (no runmaster, no runworker_client): a worker's user and
token, a run to offer, the hello, requests and their answers."""

import asyncio
import base64

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User

from orchestra.asgi import application
from orchestra.audit import SYSTEM
from orchestra.tokens import create_token
from projects.models import Job, Project
from runs.actions import do_trigger_run
from runs.models import Run


@database_sync_to_async
def worker_user(name="builder") -> str:
    user = User.objects.create_user(name)
    user.groups.set(Group.objects.filter(name="worker"))
    return create_token(user)[1]


@database_sync_to_async
def trigger(steps=1) -> Run:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    job, _ = Job.objects.get_or_create(
        project=project, identifier="j",
        defaults={"display_name": "J", "steps": [
            {"name": f"s{index}", "command": ["echo", str(index)]} for index in range(steps)
        ]},
    )
    return do_trigger_run(job, {}, SYSTEM)


@database_sync_to_async
def reload(run: Run) -> Run:
    return Run.objects.select_related("worker").get(pk=run.pk)


async def wait_for(run: Run, condition, timeout: float = 5) -> Run:
    """The run once `condition(run)` holds (polled), or an assertion error."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        run = await reload(run)
        if condition(run):
            return run
        assert asyncio.get_running_loop().time() < deadline, (run.status, run.worker_id)
        await asyncio.sleep(0.02)


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/master/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def hello(communicator, identifier="w1", runs=(), executors=1) -> dict:
    await communicator.send_json_to({
        "type": "hello", "id": 1, "identifier": identifier, "executors": executors,
        "properties": {}, "version": "test", "runs": list(runs),
    })
    answer = await communicator.receive_json_from(timeout=5)
    assert answer["type"] == "response", answer
    return answer


async def request(communicator, message: dict) -> dict:
    await communicator.send_json_to(message)
    return await communicator.receive_json_from(timeout=5)


def chunk(run: Run, offset: int, data: bytes, request_id: int = 10, step: int = 0) -> dict:
    return {"type": "log", "id": request_id, "run": run.identifier, "step": step,
            "offset": offset, "data": base64.b64encode(data).decode()}


async def answer_offer(communicator) -> dict:
    offer = await communicator.receive_json_from(timeout=5)
    assert offer["type"] == "run.start", offer
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    return offer
