"""Backpressure for HTTP responses served by daphne.

daphne hands each `http.response.body` message to Twisted and returns at once, so a response
produced faster than the client reads it piles up in the connection's send buffer: streaming
a 200 MB log grew the master by 200 MB. Twisted has the mechanism (a push producer registered
on the request is paused while the send buffer is full and resumed once it drains), but
daphne does not use it for HTTP. This ASGI middleware does: after each body message, `send`
returns only once the connection can take more, so a streaming response holds about one chunk
whatever its size and however slow its client.
"""

import asyncio
import functools

from twisted.internet.interfaces import IPushProducer
from twisted.web.http import Request
from zope.interface import implementer


@implementer(IPushProducer)
class _SendBuffer:
    """Whether the connection's send buffer has room, as Twisted tells its producer."""

    def __init__(self):
        self.has_room = asyncio.Event()
        self.has_room.set()

    def pauseProducing(self) -> None:
        self.has_room.clear()

    def resumeProducing(self) -> None:
        self.has_room.set()

    def stopProducing(self) -> None:
        self.has_room.set()  # the connection is gone: nothing is worth waiting for


def daphne_request(send) -> Request | None:
    """The Twisted request behind daphne's `send` (its server's `handle_reply` partially
    applied to the request), or None under another server."""
    if isinstance(send, functools.partial) and send.args and isinstance(send.args[0], Request):
        return send.args[0]
    return None


def _unregister(request: Request, buffer: _SendBuffer) -> None:
    # A lost connection has already dropped the request's channel, and with it the producer.
    if request.producer is buffer and request.channel is not None:
        request.unregisterProducer()


class ResponseBackpressure:
    """ASGI middleware for HTTP: `send` of a response body waits while the client is behind."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send) -> None:
        request = daphne_request(send) if scope["type"] == "http" else None
        if request is None:
            return await self.application(scope, receive, send)
        buffer = _SendBuffer()
        request.registerProducer(buffer, True)

        async def send_when_there_is_room(message: dict) -> None:
            if message["type"] == "http.response.body":
                # Waiting before a chunk rather than after lets the next one be produced
                # while the last drains.
                await buffer.has_room.wait()
                if not message.get("more_body", False):
                    _unregister(request, buffer)  # the last body finishes the request, which wants no producer left
            await send(message)

        try:
            await self.application(scope, receive, send_when_there_is_room)
        finally:
            _unregister(request, buffer)
