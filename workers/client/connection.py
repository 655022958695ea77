"""The worker client: keeps a connection to the master and streams its run directories.

It needs no database and imports no Django: it can run on any machine with Python and the
`websockets` package. See docs/protocol.md for the messages.
"""

import asyncio
import json
import logging
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from workers.client.forkserver import ForkServer, ForkServerError
from workers.client.masters import MasterList
from workers.client.requests import RESPONSE_TIMEOUT_SECONDS, MasterError, Requests, TooLarge
from workers.client.rundir import RunDirectory, step_environment
from workers.client.streaming import HeldRun, sync_run
from workers.client.watch import SWEEP_SECONDS, RunWatcher
from workers.protocol import BINARY_LOGS, MAX_MESSAGE_BYTES

logger = logging.getLogger("orchestra.worker")

VERSION = "1.0"
# Refusals that waiting will not cure: the client stops and says why.
FATAL_CLOSE_CODES = {
    4001: "token refused", 4002: "not allowed", 4003: "identifier taken",
    4006: "hello cannot be answered", 4007: "invalid hello",
}


class Refused(Exception):
    pass


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
        self.watcher = RunWatcher()
        for identifier, held in self.held.items():
            self.watcher.watch(identifier, held.directory.path)
        # The requests of the connection to the master, while there is one.
        self.requests: Requests | None = None
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
                    self.requests = Requests(connection)
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
                if self.requests is not None:
                    self.requests.cancel()
                self.requests = None
                self.refusal, self.refusal_code = "", None
            delay = self.masters.lost()
            logger.info("connecting to %s in %.1f s", self.masters.current, delay)
            await asyncio.sleep(delay)

    async def session(self, connection: ClientConnection) -> None:
        reader = asyncio.create_task(self.read(connection))
        hello = asyncio.create_task(self.requests.call({
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
            self.requests.binary_logs = answer.get(BINARY_LOGS) is True
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
                if not self.requests.deliver(message) and kind == "error":
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
        # On disk while the executor starts, and before the answer (RunDirectory.create).
        directory.make_durable()
        self.held[identifier] = HeldRun(directory)
        self.watcher.watch(identifier, directory.path)
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
        """Sync each run whose directory changed (workers/client/watch.py), again while that
        makes progress, and every run at each sweep."""
        changed = set(self.held)
        sweep_at = time.monotonic() + SWEEP_SECONDS
        while True:
            if self.watcher.polling or time.monotonic() >= sweep_at:
                changed = set(self.held)
                sweep_at = time.monotonic() + SWEEP_SECONDS
            progressing = set()
            for identifier in [identifier for identifier in self.held if identifier in changed]:
                held = self.held[identifier]
                before = held.progress()
                if await sync_run(self.requests, held):
                    self.forget(held)
                elif held.progress() != before:
                    progressing.add(identifier)  # more may be waiting: its chunks per turn ran out
            changed = progressing | await self.watcher.changed(
                0 if progressing else self.next_look(sweep_at)
            )

    def next_look(self, sweep_at: float) -> float:
        """Seconds until the next sweep, or the next retry of a run the master failed to store."""
        now = time.monotonic()
        retries = [held.retry_at for held in self.held.values() if held.retry_at > now]
        return max(0.0, min([sweep_at, *retries]) - now)

    def forget(self, held: HeldRun) -> None:
        """Everything is on the master (or the master wants none of it): delete the directory."""
        self.watcher.forget(held.directory.identifier)
        held.directory.delete()
        self.held.pop(held.directory.identifier, None)
        logger.info("run %s synchronised and removed from this worker", held.directory.identifier)
