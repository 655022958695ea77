"""Two "masters" (threads with their own connections) store the same log at once into the
database log store, as when a worker resends its chunks to another master, while a third
reads it.

Run by tests/runs/test_logstore.py against a fresh database of each kind. Prints each step's
log as stored and as sent, the chunks kept, the acknowledgements that fell short, and any
read that ended inside a chunk.
"""

import hashlib
import json
import random
import time

from tests.scenario import at_once, set_up_examples

STEPS = 4
CHUNKS = 30
CHUNK_BYTES = 16 * 1024


def main() -> None:
    set_up_examples()
    from django.db import connection

    from orchestra.audit import SYSTEM
    from projects.models import Job
    from runs.actions import do_trigger_run
    from runs.logstore import DatabaseLogStore
    from runs.models import LogChunk

    run = do_trigger_run(Job.objects.get(identifier="hello"), {}, SYSTEM)
    generator = random.Random(14)
    logs = [generator.randbytes(CHUNKS * CHUNK_BYTES) for _ in range(STEPS)]
    torn_reads = []

    def master() -> list[list[int]]:
        """The chunks whose bytes the size the master acknowledged does not cover (none:
        every acknowledgement is at least the chunk's end; the other master may have stored
        beyond it)."""
        store = DatabaseLogStore()
        short = []
        for step, log in enumerate(logs):
            for offset in range(0, len(log), CHUNK_BYTES):
                size = store.append(run.identifier, step, offset, log[offset:offset + CHUNK_BYTES])
                if size < offset + CHUNK_BYTES:
                    short.append([step, offset, size])
        return short

    def reader() -> None:
        store, deadline = DatabaseLogStore(), time.monotonic() + 120
        for step, log in enumerate(logs):
            while time.monotonic() < deadline:
                data = store.read(run.identifier, step)
                if len(data) % CHUNK_BYTES:
                    torn_reads.append([step, len(data)])
                if len(data) == len(log):
                    break

    short_acknowledgements = [short for short in at_once(master, master, reader) if short is not None]
    store = DatabaseLogStore()
    digest = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    report = {
        "logs": [digest(store.read(run.identifier, step)) for step in range(STEPS)],
        "expected": [digest(log) for log in logs],
        "chunks": [
            list(LogChunk.objects.filter(run=run, step_index=step).order_by("offset")
                 .values_list("offset", flat=True))
            for step in range(STEPS)
        ],
        "expected_chunks": [list(range(0, CHUNKS * CHUNK_BYTES, CHUNK_BYTES))] * STEPS,
        "torn_reads": torn_reads,
        "short_acknowledgements": short_acknowledgements,  # one list per master that finished
    }
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
