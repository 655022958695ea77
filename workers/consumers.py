"""The master's end of a worker connection (`/ws/master/`); see docs/protocol.md.

One consumer serves one worker. Messages are handled one at a time, in order. Every request
from the worker gets a `response` or an `error`; a message the master cannot parse, does not
know or does not allow gets an error and a log line, and the connection stays up.
"""

import asyncio
import base64
import binascii
import json
import logging
from itertools import count

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from orchestra.values import InvalidValue, check_text
from projects.secrets import SecretUnavailable, reveal
from workers import sync
from workers.consumer_records import ConnectionRecords
from workers.models import Worker
from workers.protocol import BINARY_LOGS, MAX_MESSAGE_BYTES, FrameError, decode_log_frame
from workers.refusals import CLOSE_REPLACED, CLOSE_UNANSWERABLE, CLOSE_UNAUTHENTICATED, Refused

logger = logging.getLogger(__name__)

# A request id is echoed in its answer and in the log: a whole number that every JSON reader
# holds, or a short text.
MAX_ID_LENGTH = 100
# What an error (and its log line) says is cut to this many characters: it may quote what the
# worker sent, which is up to a megabyte.
MAX_ERROR_LENGTH = 1000


class TooLarge(Exception):
    """A message the worker could not take: more than MAX_MESSAGE_BYTES once encoded."""

    def __init__(self, size: int):
        super().__init__(
            f"{size} bytes, more than the {MAX_MESSAGE_BYTES} bytes a message may hold"
        )
        self.size = size


def request_id_of(message: dict) -> int | str | None:
    """The message's id if the master can echo it (MAX_ID_LENGTH), else None."""
    value = message.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    try:
        return check_text(value, "id", max_length=MAX_ID_LENGTH)
    except InvalidValue:
        return None


class MasterConsumer(ConnectionRecords, AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.user = None
        self.worker: Worker | None = None
        # Refused or replaced: nothing more is sent nor answered on this connection (daphne
        # raises on a send after the master's close).
        self.closing = False
        self.request_ids = count(1)
        # Requests the master sent and awaits an answer for: id -> (type, run identifier).
        self.outstanding: dict[int, tuple[str, str]] = {}
        # Runs offered to the worker on this connection whose offer awaits its answer.
        self.offered: set[str] = set()
        # Run requests a handler claimed, to offer once its answer is sent.
        self.offers_after_answer: list[dict] = []
        # Consecutive failures of the master's own to store a run's log or state.
        self.internal_failures: dict[str, int] = {}
        self.keepalive: asyncio.Task | None = None
        await self.accept()
        try:
            self.user = await self.authenticate()
        except Refused as refusal:
            await self.refuse(refusal)

    async def disconnect(self, code) -> None:
        if self.keepalive is not None:
            self.keepalive.cancel()
        if self.worker is not None:
            await self.mark_disconnected()
            logger.info("worker %s disconnected (code %s)", self.worker.identifier, code)

    # Incoming frames -----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.closing:
            return  # frames that were on their way when the master closed the connection
        if text_data is None:
            try:
                frame = decode_log_frame(bytes_data)
            except FrameError as error:
                await self.send_error(error.request_id, str(error))
                return
            # The same path as a JSON `log`, with the bytes as they came (no base64).
            await self.receive_json({
                "type": "log", "id": frame.request_id, "run": frame.run, "step": frame.step,
                "offset": frame.offset, "bytes": frame.data,
            })
            return
        try:
            message = json.loads(text_data)
        except RecursionError:
            await self.send_error(None, "malformed JSON: nested too deeply")
            return
        except ValueError as error:
            await self.send_error(None, f"malformed JSON: {error}")
            return
        await self.receive_json(message)

    async def receive_json(self, message, **kwargs) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error(None, "a message is a JSON object with a 'type'")
            return
        request_id = request_id_of(message)
        kind = message["type"]
        if kind in ("response", "error"):
            await self.handle_answer(message, request_id)
            return
        if request_id is None:
            await self.send_error(
                None, f"a {sync.quote(kind)} request needs an 'id': a whole number or a text of "
                f"at most {MAX_ID_LENGTH} characters",
            )
            return
        handler = self.handlers.get(kind)
        if handler is None:
            await self.send_error(request_id, f"unknown message type {sync.quote(kind)}")
            return
        if kind != "hello" and self.worker is None:
            await self.send_error(request_id, f"{kind!r} before 'hello'")
            return
        run_identifier = message.get("run") if isinstance(message.get("run"), str) else None
        try:
            answer = await handler(self, message)
        except sync.SyncError as error:
            await self.send_error(request_id, str(error), **error.details)
        except Refused as refusal:
            await self.send_error(request_id, refusal.reason)
            await self.refuse(refusal)
        except Exception as error:
            # The master's own failure (a database error...): the worker keeps the data and
            # retries, the connection stays up.
            logger.exception("worker message %s %s failed", kind, request_id)
            if await self.failed_too_often(run_identifier, error):
                await self.send_error(
                    request_id, f"the master cannot store this run: {error}", final=True
                )
            else:
                await self.send_error(
                    request_id, f"internal error on the master: {error}", retry=True
                )
        else:
            self.internal_failures.pop(run_identifier, None)
            offers, self.offers_after_answer = self.offers_after_answer, []
            try:
                await self.deliver({"type": "response", "id": request_id, **answer})
            except TooLarge as error:
                await self.send_error(request_id, f"the answer would be {error}")
                if kind == "hello":
                    # The same hello would get the same answer after any reconnection.
                    await self.refuse(Refused(
                        CLOSE_UNANSWERABLE,
                        f"the answer to this worker's hello would be {error}: it reports more "
                        "runs than one message can answer",
                    ))
                return
            if kind == "hello":
                # Runs are offered after the answer, so the worker knows where it stands first.
                await self.claim_and_offer()
            elif offers:
                await self.offer(offers)

    async def send_error(self, request_id: int | str | None, text: str, **details) -> None:
        text = sync.shorten(text, MAX_ERROR_LENGTH)
        worker = self.worker.identifier if self.worker else "(unregistered)"
        logger.warning("worker %s: refused message %s: %s", worker, sync.quote(request_id), text)
        await self.deliver({"type": "error", "id": request_id, "error": text, **details})

    async def refuse(self, refusal: Refused) -> None:
        logger.warning("worker connection refused: %s", refusal.reason)
        # Daphne 4.2 sends the close code but drops the reason text: the reason goes first
        # in a message of its own.
        await self.deliver({"type": "refused", "code": refusal.code, "reason": refusal.reason})
        self.closing = True
        await self.close(code=refusal.code, reason=refusal.reason)

    # Requests from the worker -----------------------------------------------------------------

    async def handle_hello(self, message: dict) -> dict:
        if self.worker is not None:
            raise sync.SyncError("'hello' was already received on this connection")
        runs = message.get("runs", [])
        if not isinstance(runs, list):
            raise sync.SyncError("field 'runs' must be a list of run identifiers")
        for position, run in enumerate(runs):
            sync.check_run_identifier(run, f"runs[{position}]")
        self.worker, previous_channel = await self.register(message)
        if previous_channel:
            await self.channel_layer.send(previous_channel, {"type": "worker.replaced"})
        self.keepalive = asyncio.create_task(self.keep_alive())
        answer = await self.reconcile(runs)
        logger.info(
            "worker %s connected, holding %d run(s)", self.worker.identifier, len(runs)
        )
        return {"runs": answer, BINARY_LOGS: True}

    async def handle_log(self, message: dict) -> dict:
        # Raw bytes from a binary frame (JSON holds no bytes), else base64 text.
        data = message.get("bytes")
        if not isinstance(data, bytes):
            try:
                data = base64.b64decode(message.get("data", ""), validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise sync.SyncError("field 'data' must be base64")
        size = await self.store_log(
            message.get("run"), message.get("step"), message.get("offset"), data
        )
        return {"offset": size}

    async def handle_state(self, message: dict) -> dict:
        # A report that ended its run claimed the runs of the executor it freed: offered once
        # the report is answered.
        answer, self.offers_after_answer = await self.apply_state_and_claim(
            message.get("run"), message.get("state")
        )
        return answer

    handlers = {"hello": handle_hello, "log": handle_log, "state": handle_state}

    async def handle_answer(self, message: dict, request_id: int | str | None) -> None:
        """A worker's response or error to a request the master sent."""
        pending = self.outstanding.pop(request_id, None)
        if pending is None:
            await self.send_error(
                None, f"answer to unknown request {sync.quote(message.get('id'))}"
            )
            return
        kind, run_identifier = pending
        reason = message.get("error", "")
        reason = sync.shorten(
            reason if isinstance(reason, str) else sync.quote(reason), MAX_ERROR_LENGTH
        )
        if kind == "run.start":
            # Answered: no longer pending on this worker, or to be offered again.
            self.offered.discard(run_identifier)
            if message["type"] == "response":
                await self.confirm_start(run_identifier)
            else:
                # Offering it again would loop: a run its worker cannot start ends here.
                logger.warning(
                    "worker %s refused run %s: %s", self.worker.identifier, run_identifier, reason
                )
                await self.end_in_exception(
                    run_identifier,
                    f"worker {self.worker.identifier} could not start the run: {reason}",
                )
        elif message["type"] == "error":
            logger.warning(
                "worker %s: %s %s failed: %s", self.worker.identifier, kind, run_identifier, reason
            )

    # Requests to the worker -------------------------------------------------------------------

    async def deliver(self, message: dict) -> bool:
        """Send a message unless the connection is closing; whether it was sent. TooLarge if
        the worker could not take it: sent, it would end the connection, and go again after the
        reconnection, forever."""
        if self.closing:
            return False
        text = json.dumps(message)  # ASCII (ensure_ascii): as many bytes as characters
        if len(text) > MAX_MESSAGE_BYTES:
            raise TooLarge(len(text))
        await self.send(text_data=text)
        return True

    async def request(self, kind: str, run_identifier: str, **fields) -> bool:
        """Send a request; whether it was sent."""
        request_id = next(self.request_ids)
        if not await self.deliver({"type": kind, "id": request_id, **fields}):
            return False
        self.outstanding[request_id] = (kind, run_identifier)
        return True

    async def claim_and_offer(self) -> None:
        """Claim runs for the worker's free executors, then offer what is claimed for it (one
        database call for both)."""
        if self.worker is None or self.closing:
            return
        try:
            requests = await self.claim_and_read_offers()
        except Exception:
            logger.exception("reading runs claimed for worker %s failed", self.worker.identifier)
            return
        await self.offer(requests)

    async def offer_claimed_runs(self) -> None:
        """Offer the worker the runs claimed for it and not yet offered on this connection
        (by this consumer or by any master's dispatch)."""
        if self.worker is None or self.closing:
            return
        try:
            requests = await self.claimed_run_requests()
        except Exception:
            logger.exception("reading runs claimed for worker %s failed", self.worker.identifier)
            return
        await self.offer(requests)

    async def offer(self, requests: list[dict]) -> None:
        """Send `run.start` for each run request not yet offered on this connection."""
        for run_request in requests:
            identifier = run_request["identifier"]
            if self.worker is None or self.closing or identifier in self.offered:
                continue
            try:
                if "secrets" in run_request:
                    run_request = {**run_request, "secrets": reveal(run_request["secrets"])}
                # Unsent (closing), it goes back to the queue when the connection ends.
                if await self.request("run.start", identifier, run=run_request):
                    self.offered.add(identifier)
            except TooLarge as error:
                await self.give_up_undeliverable(identifier, (
                    f"the run request cannot be sent to worker {self.worker.identifier}: it is "
                    f"{error} (its parameters or steps are too large)"
                ))
            except SecretUnavailable as error:
                await self.give_up_undeliverable(identifier, str(error))

    async def give_up_undeliverable(self, run_identifier: str, message: str) -> None:
        """A run whose request cannot be delivered ends `exception` (which frees its executor
        for the next run): offered again, it would fail again."""
        logger.warning("run %s: %s", run_identifier, message)
        try:
            await self.end_in_exception(run_identifier, message)
        except Exception:
            # Left pending on this worker: the next connection offers it again, and tries again.
            logger.exception("ending run %s failed", run_identifier)

    async def confirm_start(self, run_identifier: str) -> None:
        abort = await self.confirm_started(run_identifier)
        if abort:
            await self.request("run.abort", run_identifier, run=run_identifier)

    # Channel-layer events ---------------------------------------------------------------------

    async def dispatch_wake(self, event: dict) -> None:
        await self.claim_and_offer()

    async def run_offer(self, event: dict) -> None:
        """Dispatch claimed runs for this worker: their requests come with the event, or, when
        they were too large for it, are read from the database.

        An event's runs go only if still claimed for this worker and pending: the event may
        arrive after a wake-up or sweep read the same claims from the database and offered
        them here, and after the worker answered and even finished them (offered again, they
        would run twice); or after the hello's reconciliation gave them back to the queue.
        """
        if "runs" not in event:
            await self.offer_claimed_runs()
            return
        if self.worker is None or self.closing:
            return
        try:
            claimed = await self.still_claimed([request["identifier"] for request in event["runs"]])
        except Exception:
            logger.exception("reading runs claimed for worker %s failed", self.worker.identifier)
            return
        await self.offer([request for request in event["runs"] if request["identifier"] in claimed])

    async def run_abort(self, event: dict) -> None:
        if self.worker is not None:
            await self.request("run.abort", event["run"], run=event["run"])

    async def worker_replaced(self, event: dict) -> None:
        # The same worker connected again (through another master process, perhaps): the new
        # connection wins, this one is a leftover of a network failure.
        self.worker = None
        await self.refuse(Refused(CLOSE_REPLACED, "replaced by a newer connection"))

    async def keep_alive(self) -> None:
        """Refresh `last_seen` well within WORKER_INACTIVE_AFTER (other masters read it to
        tell a live connection from one whose master died); end the connection once its token
        stops working."""
        interval = max(1, min(30, settings.WORKER_INACTIVE_AFTER // 3))
        while self.worker is not None:
            await asyncio.sleep(interval)
            try:
                if not await self.refresh():
                    await self.refuse(Refused(
                        CLOSE_UNAUTHENTICATED, "the token was revoked or its user disabled"
                    ))
                    return
            except Exception:
                logger.exception("refreshing worker %s failed", self.worker.identifier)
