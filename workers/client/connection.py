"""The worker client: keeps a connection to the master and streams its run directories.

It needs no database and imports no Django: it can run on any machine with Python and the
`websockets` package. See docs/protocol.md for the messages.
"""

import asyncio
import base64
import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from workers.client.forkserver import ForkServer, ForkServerError
from workers.client.masters import MasterList, backoff_delays
from workers.client.rundir import FINAL_STATUSES, RunDirectory, step_environment
from workers.protocol import MAX_MESSAGE_BYTES

logger = logging.getLogger("orchestra.worker")

VERSION = "1.0"
# Raw bytes per log message: 512 KiB is about 700 KB once in base64 and JSON, safely below
# daphne's 1 MiB message limit; each message costs a round trip and a database write, so
# fewer, larger chunks stream faster (bench/README.md).
CHUNK_BYTES = 512 * 1024
# Log chunks one run may send before the other runs get their turn, and how many of them
# may await their acknowledgement at once.
CHUNKS_PER_TURN = 8
CHUNKS_IN_FLIGHT = 4
SYNC_INTERVAL_SECONDS = 0.05
RESPONSE_TIMEOUT_SECONDS = 60
# After the master failed to store a run's log or state (an error with `retry`), that run
# waits before it tries again, longer after each failure: a master whose database is down
# is not flooded by every worker every SYNC_INTERVAL_SECONDS.
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 30.0
# Refusals that waiting will not cure: the client stops and says why.
FATAL_CLOSE_CODES = {
    4001: "token refused", 4002: "not allowed", 4003: "identifier taken",
    4006: "hello cannot be answered", 4007: "invalid hello",
}


class MasterError(Exception):
    """The master answered a request with an error."""

    def __init__(self, answer: dict):
        super().__init__(answer.get("error", "error"))
        self.answer = answer


class Refused(Exception):
    pass


class TooLarge(Exception):
    """A message the master could not take: more than MAX_MESSAGE_BYTES once encoded."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes, more than the {MAX_MESSAGE_BYTES} bytes a message may hold")


@dataclass
class HeldRun:
    """A run this worker holds, and what the master acknowledged of it on this connection."""

    directory: RunDirectory
    acknowledged_logs: dict[int, int] = field(default_factory=dict)
    acknowledged_state: dict | None = None
    # The master does not want it (ended there, or not assigned here): stop it and delete it.
    dropping: bool = False
    # The master failed to store some of it: it is not sent again before `retry_at`
    # (time.monotonic()).
    retry_delays: Iterator[float] | None = None
    retry_at: float = 0.0

    def back_off(self) -> float:
        """Wait longer before the next try; the delay."""
        if self.retry_delays is None:
            self.retry_delays = backoff_delays(RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS)
        delay = next(self.retry_delays)
        self.retry_at = time.monotonic() + delay
        return delay

    def stored(self) -> None:
        """The master stored some of it: a next failure waits the shortest delay again."""
        self.retry_delays = None


class WorkerClient:
    def __init__(self, master_urls: list[str], token: str, identifier: str, properties: dict[str, str],
                 executors: int, data_dir: Path, fork_server: bool = True):
        self.masters = MasterList(master_urls)
        self.token = token
        self.identifier = identifier
        self.properties = properties
        self.executors = executors
        self.runs_root = Path(data_dir) / "runs"
        self.runs_root.mkdir(parents=True, exist_ok=True)
        self.held: dict[str, HeldRun] = {
            directory.identifier: HeldRun(directory)
            for directory in RunDirectory.discover(self.runs_root)
        }
        self.request_ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.connection: ClientConnection | None = None
        # Why the master refused this connection, and the close code it announced (it says so
        # just before closing it).
        self.refusal = ""
        self.refusal_code: int | None = None
        # Executors are forked from a fork server, started at the first run (False: each
        # executor is a fresh interpreter, as after any failure of the fork server).
        self.use_fork_server = fork_server
        self.fork_server: ForkServer | None = None

    # Connection lifecycle ---------------------------------------------------------------------

    async def run_forever(self) -> None:
        while True:
            master_url = self.masters.current
            try:
                async with connect(
                    master_url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    proxy=None, compression=None, max_size=MAX_MESSAGE_BYTES, open_timeout=10,
                ) as connection:
                    self.connection = connection
                    await self.session(connection)
            except ConnectionClosed as closed:
                # The refusal message counts even if the close frame was lost on the way (a
                # proxy that drops the connection): it says which code and why.
                code = self.refusal_code or (closed.rcvd.code if closed.rcvd else None)
                reason = self.refusal or (closed.rcvd.reason if closed.rcvd else "")
                if code in FATAL_CLOSE_CODES:
                    raise Refused(f"the master refused this worker ({code}): {reason}")
                logger.warning("connection to the master at %s closed (%s %s)", master_url, code, reason)
            except MasterError as error:
                logger.error("the master refused a request: %s", error)
            except (OSError, InvalidHandshake, asyncio.TimeoutError) as error:
                if isinstance(error, InvalidStatus) and error.response.status_code in (401, 403):
                    raise Refused(f"the master refused the connection: {error}")
                logger.warning("cannot reach the master at %s: %s", master_url, error)
            finally:
                self.connection = None
                self.refusal, self.refusal_code = "", None
                for future in self.waiting.values():
                    future.cancel()
                self.waiting.clear()
            delay = self.masters.lost()
            logger.info("connecting to %s in %.1f s", self.masters.current, delay)
            await asyncio.sleep(delay)

    async def session(self, connection: ClientConnection) -> None:
        reader = asyncio.create_task(self.read(connection))
        hello = asyncio.create_task(self.call({
            "type": "hello", "identifier": self.identifier, "version": VERSION,
            "properties": self.properties, "executors": self.executors,
            "runs": sorted(self.held),
        }))
        try:
            await asyncio.wait({reader, hello}, return_when=asyncio.FIRST_COMPLETED)
            if not hello.done():
                # The master closed the connection instead of answering (it refuses the token,
                # or it shuts down): the close says why, no answer will come.
                reader.result()
                return
            try:
                answer = hello.result()
            except TooLarge as error:
                # The same runs are on disk after any reconnection: waiting will not cure it.
                raise Refused(
                    f"this worker's hello is {error}: it holds {len(self.held)} run directories "
                    f"in {self.runs_root}, or its properties are too large"
                )
            except MasterError as error:
                logger.error("the master refused this worker's hello: %s", error)
                # A refused worker is disconnected by the master: the close code says why.
                await asyncio.wait_for(reader, RESPONSE_TIMEOUT_SECONDS)
                return
            self.resume(answer.get("runs", {}))
            self.masters.answered()
            logger.info("connected to %s as %s", self.masters.current, self.identifier)
            syncing = asyncio.create_task(self.sync_forever())
            done, _ = await asyncio.wait({reader, syncing}, return_when=asyncio.FIRST_COMPLETED)
            syncing.cancel()
            for task in done:
                task.result()
        finally:
            hello.cancel()
            reader.cancel()

    def resume(self, answers: dict) -> None:
        """Apply the master's answer to the hello: where each held run's logs stand."""
        for identifier, held in self.held.items():
            answer = answers.get(identifier, {})
            held.acknowledged_state = None
            if "drop" in answer:
                logger.warning("run %s: the master does not want it: %s", identifier, answer["drop"])
                held.dropping = True
                continue
            held.acknowledged_logs = {int(step): int(size) for step, size in answer.get("logs", {}).items()}
            if answer.get("abort"):
                held.directory.abort()

    # Messages ---------------------------------------------------------------------------------

    async def call(self, message: dict) -> dict:
        """Send a request and wait for its answer; MasterError if it is an error."""
        return await self.answer(await self.send(message))

    async def send(self, message: dict) -> tuple[int, asyncio.Future]:
        """Send a request; its answer is awaited with `answer`. TooLarge if the master could
        not take it: sent, it would end the connection, and go again after the reconnection."""
        request_id = next(self.request_ids)
        text = json.dumps({**message, "id": request_id})  # ASCII: as many bytes as characters
        if len(text) > MAX_MESSAGE_BYTES:
            raise TooLarge(len(text))
        future = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        await self.connection.send(text)
        return request_id, future

    async def answer(self, sent: tuple[int, asyncio.Future]) -> dict:
        request_id, future = sent
        try:
            answer = await asyncio.wait_for(future, RESPONSE_TIMEOUT_SECONDS)
        finally:
            self.waiting.pop(request_id, None)
        if answer["type"] == "error":
            raise MasterError(answer)
        return answer

    async def read(self, connection: ClientConnection) -> None:
        async for text in connection:
            try:
                message = json.loads(text)
                kind = message["type"]
            except (ValueError, KeyError, TypeError):
                logger.error("unreadable message from the master: %.200r", text)
                continue
            if kind == "refused":
                self.refusal = str(message.get("reason", ""))
                code = message.get("code")
                self.refusal_code = code if isinstance(code, int) else None
                continue
            if kind in ("response", "error"):
                future = self.waiting.get(message.get("id"))
                if future is not None and not future.done():
                    future.set_result(message)
                elif kind == "error":
                    logger.error("the master reports an error: %s", message.get("error"))
                continue
            try:
                answer = self.handle_request(message)
            except Exception as error:
                logger.exception("cannot handle %s", kind)
                answer = {"type": "error", "error": str(error)}
            await connection.send(json.dumps({**answer, "id": message.get("id")}))

    def handle_request(self, message: dict) -> dict:
        kind = message["type"]
        if kind == "run.start":
            return self.start_run(message["run"])
        if kind == "run.abort":
            held = self.held.get(message.get("run"))
            if held is None:
                return {"type": "error", "error": f"this worker holds no run {message.get('run')}"}
            held.directory.abort()
            return {"type": "response"}
        return {"type": "error", "error": f"unknown message type {kind!r}"}

    def start_run(self, request: dict) -> dict:
        identifier = request["identifier"]
        if identifier in self.held:
            return {"type": "response"}  # offered again after a lost answer: already running
        directory = RunDirectory.create(self.runs_root, {**request, "worker": self.identifier})
        self.start_executor(directory)
        self.held[identifier] = HeldRun(directory)
        logger.info("run %s (%s/%s) started", identifier, request["project"], request["job"])
        return {"type": "response"}

    def start_executor(self, directory: RunDirectory) -> None:
        if self.use_fork_server:
            try:
                if self.fork_server is None:
                    self.fork_server = ForkServer(self.runs_root, step_environment())
                    logger.info("fork server started (pid %d)", self.fork_server.process.pid)
                directory.start_executor(self.fork_server)
                return
            except (ForkServerError, OSError) as error:
                logger.warning("fork server unavailable, executors start as fresh interpreters: %s", error)
                self.use_fork_server = False
                if self.fork_server is not None:
                    self.fork_server.close()
                    self.fork_server = None
                if directory.executor_pid() is not None:
                    return  # forked before the server failed: the executor runs
        directory.start_executor()

    # Streaming run directories ----------------------------------------------------------------

    async def sync_forever(self) -> None:
        while True:
            for identifier in list(self.held):
                await self.sync_run(self.held[identifier])
            await asyncio.sleep(SYNC_INTERVAL_SECONDS)

    async def sync_run(self, held: HeldRun) -> None:
        directory = held.directory
        if held.dropping:
            if directory.executor_alive():
                directory.abort()
            else:
                self.forget(held)
            return
        if time.monotonic() < held.retry_at:
            return
        state = directory.settle_dead_executor()
        if state is None:
            return
        try:
            complete = await self.send_logs(held, state)
        except MasterError as error:
            if error.answer.get("retry"):
                logger.warning(
                    "run %s: the master failed to store a log chunk (next try in %.1f s): %s",
                    directory.identifier, held.back_off(), error,
                )
                return
            # Not a gap (that is an answer, not an error): the master will not take this run.
            logger.error("run %s: the master refused its log: %s", directory.identifier, error)
            held.dropping = True
            return
        if state == held.acknowledged_state:
            return
        if state["status"] in FINAL_STATUSES and not complete:
            return  # the final status goes once every log byte is acknowledged
        try:
            answer = await self.send_state(held, state)
        except MasterError as error:
            logs = error.answer.get("logs")
            if logs:
                held.acknowledged_logs.update({int(step): int(size) for step, size in logs.items()})
            elif error.answer.get("retry"):
                logger.warning(
                    "run %s: the master failed to store its state (next try in %.1f s): %s",
                    directory.identifier, held.back_off(), error,
                )
            else:
                logger.error("run %s: the master refused its state: %s", directory.identifier, error)
                held.dropping = True
            return
        held.acknowledged_state = state
        held.stored()
        if answer.get("final"):
            if state["status"] in FINAL_STATUSES:
                self.forget(held)
            else:
                held.dropping = True  # the master ended it (an administrator did)

    async def send_state(self, held: HeldRun, state: dict) -> dict:
        """Send the run's state. One too large for a message (its results) cannot reach the
        master: the run ends `exception` instead, saying why, with the steps if they fit."""
        request = {"type": "state", "run": held.directory.identifier}
        try:
            return await self.call({**request, "state": state})
        except TooLarge as error:
            logger.error("run %s: its state is %s: it ends in exception", held.directory.identifier, error)
            replacement = {
                "status": "exception", "results": {}, "steps": state["steps"],
                "message": f"the run's state is {error} (are its results too large?)",
            }
        try:
            return await self.call({**request, "state": replacement})
        except TooLarge:
            return await self.call({**request, "state": {**replacement, "steps": []}})

    async def send_logs(self, held: HeldRun, state: dict) -> bool:
        """Send log bytes the master lacks, whole lines while a step runs; True when all sent."""
        directory = held.directory
        complete = True
        budget = CHUNKS_PER_TURN
        for step in state["steps"]:
            index = step["index"]
            step_ended = step["status"] not in ("pending", "running")
            size = directory.log_size(index)
            while held.acknowledged_logs.get(index, 0) < size and budget:
                # Up to CHUNKS_IN_FLIGHT chunks go out before the first answer: the master
                # handles them in order, so the last answer is the durable size after all.
                offset = held.acknowledged_logs.get(index, 0)
                sent = []
                while len(sent) < min(CHUNKS_IN_FLIGHT, budget) and offset < size:
                    data = directory.read_log(index, offset, CHUNK_BYTES, whole_lines=not step_ended)
                    if not data:
                        break
                    sent.append(await self.send({
                        "type": "log", "run": directory.identifier, "step": index,
                        "offset": offset, "data": base64.b64encode(data).decode("ascii"),
                    }))
                    offset += len(data)
                if not sent:
                    break
                try:
                    for request in sent:
                        answer = await self.answer(request)
                        held.acknowledged_logs[index] = answer["offset"]
                        held.stored()
                finally:
                    for request_id, _ in sent:
                        self.waiting.pop(request_id, None)
                budget -= len(sent)
            if held.acknowledged_logs.get(index, 0) < step.get("log_size", 0):
                complete = False
        return complete

    def forget(self, held: HeldRun) -> None:
        """Everything is on the master (or the master wants none of it): delete the directory."""
        held.directory.delete()
        self.held.pop(held.directory.identifier, None)
        logger.info("run %s synchronised and removed from this worker", held.directory.identifier)
