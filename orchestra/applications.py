"""The three applications one `runmaster` process may serve (`--serve`, default all three).

- website: the pages under `/` (the admin and static files included);
- service: the JSON service under `/api/`;
- master: the worker endpoint `/ws/master/`, dispatch, the scheduler and the sweeps.

`orchestra.asgi.application_serving` builds a process's ASGI application from these; the
ASGI pieces here answer for what a process does not serve, before Django sees the request.
"""

import json
from collections.abc import Iterable

WEBSITE = "website"
SERVICE = "service"
MASTER = "master"
ORDER = (WEBSITE, SERVICE, MASTER)
ALL = frozenset(ORDER)

SERVICE_PREFIX = "/api/"


def parse_served(value: str) -> frozenset[str]:
    """The applications of a comma-separated list; ValueError naming an unknown one."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise ValueError(f"name at least one of {', '.join(ORDER)}")
    for name in names:
        if name not in ALL:
            raise ValueError(f"{name!r} is not one of {', '.join(ORDER)}")
    return frozenset(names)


def describe(served: Iterable[str]) -> str:
    """The applications as `--serve` takes them, in their usual order."""
    return ",".join(name for name in ORDER if name in served)


def http_application(path: str) -> str:
    """Which application answers an HTTP request for `path`."""
    return SERVICE if path.startswith(SERVICE_PREFIX) else WEBSITE


class ServedApplications:
    """ASGI middleware: an HTTP request for an application this process does not serve is a
    404 that says so (JSON under /api/, as every error of the service is)."""

    def __init__(self, application, served: frozenset[str]):
        self.application = application
        self.served = served

    async def __call__(self, scope, receive, send) -> None:
        application = http_application(scope["path"])
        if application in self.served:
            return await self.application(scope, receive, send)
        message = f"this process does not serve the {application}"
        if application == SERVICE:
            body, content_type = json.dumps({"error": message}).encode(), b"application/json"
        else:
            body, content_type = f"Not Found: {message}\n".encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 404, "headers": [
            (b"content-type", content_type),
            (b"content-length", b"%d" % len(body)),
            (b"x-content-type-options", b"nosniff"),
        ]})
        await send({"type": "http.response.body", "body": body})


async def refuse_workers(scope, receive, send) -> None:
    """The WebSocket endpoint of a process that does not serve the master: a worker sent here
    hears at once that this is not its master (a handshake refused with 403). Not a Channels
    consumer: it has nothing to hear from the channel layer."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close"})
