"""Streaming one run directory to the master: the log bytes it lacks, then the state
(docs/protocol.md, `log` and `state`). The directory is deleted only once the master
acknowledged its final state, which it accepts only when it holds every log byte.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from workers.client.masters import backoff_delays
from workers.client.requests import MasterError, Requests, TooLarge
from workers.client.rundir import FINAL_STATUSES, RunDirectory

logger = logging.getLogger("orchestra.worker")

# Log chunks one run may send before the other runs get their turn, and how many of them
# may await their acknowledgement at once.
CHUNKS_PER_TURN = 8
CHUNKS_IN_FLIGHT = 4
# After the master failed to store a run's log or state (an error with `retry`), that run
# waits before it tries again, longer after each failure: a master whose database is down
# is not flooded by every worker at every look at the run directories.
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 30.0


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

    def progress(self) -> tuple:
        """What a sync may change: compared before and after one, it tells whether it did."""
        return dict(self.acknowledged_logs), self.acknowledged_state, self.dropping, self.retry_at


async def sync_run(requests: Requests, held: HeldRun) -> bool:
    """Send what the master lacks of a run; whether the run is done with on this worker (all
    of it acknowledged, or the master wants none of it and its executor ended): the caller
    then deletes its directory."""
    directory = held.directory
    if held.dropping:
        if directory.executor_alive():
            directory.abort()
            return False
        return True
    if time.monotonic() < held.retry_at:
        return False
    state = directory.settle_dead_executor()
    if state is None:
        return False
    try:
        complete = await send_logs(requests, held, state)
    except MasterError as error:
        if error.answer.get("retry"):
            logger.warning(
                "run %s: the master failed to store a log chunk (next try in %.1f s): %s",
                directory.identifier, held.back_off(), error,
            )
            return False
        # Not a gap (that is an answer, not an error): the master will not take this run.
        logger.error("run %s: the master refused its log: %s", directory.identifier, error)
        held.dropping = True
        return False
    if state == held.acknowledged_state:
        return False
    if state["status"] in FINAL_STATUSES and not complete:
        return False  # the final status goes once every log byte is acknowledged
    try:
        answer = await send_state(requests, held, state)
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
        return False
    held.acknowledged_state = state
    held.stored()
    if answer.get("final"):
        if state["status"] in FINAL_STATUSES:
            return True
        held.dropping = True  # the master ended it (an administrator did)
    return False


async def send_state(requests: Requests, held: HeldRun, state: dict) -> dict:
    """Send the run's state. One too large for a message (its results) cannot reach the
    master: the run ends `exception` instead, saying why, with the steps if they fit."""
    request = {"type": "state", "run": held.directory.identifier}
    try:
        return await requests.call({**request, "state": state})
    except TooLarge as error:
        logger.error("run %s: its state is %s: it ends in exception", held.directory.identifier, error)
        replacement = {
            "status": "exception", "results": {}, "steps": state["steps"],
            "message": f"the run's state is {error} (are its results too large?)",
        }
    try:
        return await requests.call({**request, "state": replacement})
    except TooLarge:
        return await requests.call({**request, "state": {**replacement, "steps": []}})


async def send_logs(requests: Requests, held: HeldRun, state: dict) -> bool:
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
                data = directory.read_log(index, offset, requests.chunk_bytes, whole_lines=not step_ended)
                if not data:
                    break
                sent.append(await requests.send_log(directory.identifier, index, offset, data))
                offset += len(data)
            if not sent:
                break
            try:
                for request in sent:
                    answer = await requests.answer(request)
                    held.acknowledged_logs[index] = answer["offset"]
                    held.stored()
            finally:
                for request in sent:
                    requests.forget(request)
            budget -= len(sent)
        if held.acknowledged_logs.get(index, 0) < step.get("log_size", 0):
            complete = False
    return complete
