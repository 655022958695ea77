"""The worker client's requests to the master on one connection, and the answers it awaits
(docs/protocol.md, "Framing"). Log chunks go as binary frames when the master said it takes
them in its answer to `hello`, else as JSON with base64 (a master older than binary frames).
"""

import asyncio
import base64
import itertools
import json

from websockets.asyncio.client import ClientConnection

from workers.protocol import BINARY_CHUNK_BYTES, MAX_MESSAGE_BYTES, encode_log_frame

RESPONSE_TIMEOUT_SECONDS = 60
# Raw bytes per JSON log message: 512 KiB is about 700 KB once in base64 and JSON, safely below
# daphne's 1 MiB message limit. Each message costs a round trip, a database write and an
# fsync, so fewer, larger chunks stream faster (bench/README.md); a binary frame carries
# BINARY_CHUNK_BYTES.
JSON_CHUNK_BYTES = 512 * 1024

# A request on its way: its id, and the future its answer completes.
Sent = tuple[int, asyncio.Future]


class MasterError(Exception):
    """The master answered a request with an error."""

    def __init__(self, answer: dict):
        super().__init__(answer.get("error", "error"))
        self.answer = answer


class TooLarge(Exception):
    """A message the master could not take: more than MAX_MESSAGE_BYTES once encoded."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes, more than the {MAX_MESSAGE_BYTES} bytes a message may hold")


class Requests:
    def __init__(self, connection: ClientConnection):
        self.connection = connection
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        # Set from the master's answer to `hello`.
        self.binary_logs = False

    @property
    def chunk_bytes(self) -> int:
        """The most log bytes one `log` request carries."""
        return BINARY_CHUNK_BYTES if self.binary_logs else JSON_CHUNK_BYTES

    async def call(self, message: dict) -> dict:
        """Send a request and wait for its answer; MasterError if it is an error."""
        return await self.answer(await self.send(message))

    async def send(self, message: dict) -> Sent:
        """Send a request; its answer is awaited with `answer`. TooLarge if the master could
        not take it: sent, it would end the connection, and go again after the reconnection."""
        request_id = next(self.ids)
        text = json.dumps({**message, "id": request_id})  # ASCII: as many bytes as characters
        if len(text) > MAX_MESSAGE_BYTES:
            raise TooLarge(len(text))
        return await self.transmit(request_id, text)

    async def send_log(self, run: str, step: int, offset: int, data: bytes) -> Sent:
        """Send log bytes found at `offset` of a step's log (at most `chunk_bytes`)."""
        if not self.binary_logs:
            return await self.send({
                "type": "log", "run": run, "step": step, "offset": offset,
                "data": base64.b64encode(data).decode("ascii"),
            })
        request_id = next(self.ids)
        return await self.transmit(request_id, encode_log_frame(request_id, run, step, offset, data))

    async def transmit(self, request_id: int, frame: str | bytes) -> Sent:
        future = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        await self.connection.send(frame)
        return request_id, future

    async def answer(self, sent: Sent) -> dict:
        request_id, future = sent
        try:
            answer = await asyncio.wait_for(future, RESPONSE_TIMEOUT_SECONDS)
        finally:
            self.waiting.pop(request_id, None)
        if answer["type"] == "error":
            raise MasterError(answer)
        return answer

    def forget(self, sent: Sent) -> None:
        """No longer await the answer to `sent`."""
        self.waiting.pop(sent[0], None)

    def deliver(self, answer: dict) -> bool:
        """Hand a `response` or `error` to the request awaiting it; whether one was."""
        future = self.waiting.get(answer.get("id"))
        if future is None or future.done():
            return False
        future.set_result(answer)
        return True

    def cancel(self) -> None:
        """The connection ended: no answer will come."""
        for future in self.waiting.values():
            future.cancel()
        self.waiting.clear()
