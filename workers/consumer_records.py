"""The database work of a worker connection's consumer (workers.consumers), each call on a
thread of its own (channels' `database_sync_to_async`): what it reads and writes is in
workers.connection_records and workers.sync."""

import logging

from channels.db import database_sync_to_async

from orchestra.database import error_text
from workers import connection_records as records
from workers import sync
from workers.models import Worker

logger = logging.getLogger(__name__)

# A run whose log or state the master failed to store this many times in a row (its own
# failure, answered "retry") ends `exception`: a failure that repeats is not a passing one.
MAX_INTERNAL_FAILURES = 10


class ConnectionRecords:
    """For MasterConsumer: its worker's records, as its connection reads and changes them."""

    async def authenticate(self):
        header = dict(self.scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        token = await database_sync_to_async(records.authenticate)(header)
        self.token_id = token.pk
        return token.user

    async def refresh(self) -> bool:
        return await database_sync_to_async(records.refresh)(
            self.worker, self.channel_name, self.token_id
        )

    async def register(self, message: dict) -> tuple[Worker, str]:
        return await database_sync_to_async(records.register)(
            self.user, message, self.channel_name, self.address()
        )

    def address(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def mark_disconnected(self) -> None:
        await database_sync_to_async(records.mark_disconnected)(
            self.worker, self.channel_name, self.offered
        )

    async def reconcile(self, runs: list[str]) -> dict:
        return await database_sync_to_async(sync.reconcile)(self.worker, runs)

    async def store_log(self, run: object, step: object, offset: object, data: bytes) -> int:
        return await database_sync_to_async(sync.store_log)(self.worker, run, step, offset, data)

    async def apply_state_and_claim(self, run: object, state: object) -> tuple[dict, list[dict]]:
        return await database_sync_to_async(records.apply_state_and_claim)(
            self.worker, run, state, self.offered
        )

    async def claim_and_read_offers(self) -> list[dict]:
        return await database_sync_to_async(records.claim_and_read_offers)(
            self.worker, self.offered
        )

    async def still_claimed(self, run_identifiers: list[str]) -> set[str]:
        return await database_sync_to_async(records.still_claimed)(self.worker, run_identifiers)

    async def claimed_run_requests(self) -> list[dict]:
        return await database_sync_to_async(records.claimed_run_requests)(self.worker, self.offered)

    async def confirm_started(self, run_identifier: str) -> bool:
        return await database_sync_to_async(records.confirm_started)(self.worker, run_identifier)

    async def end_in_exception(self, run_identifier: str, message: str) -> None:
        await database_sync_to_async(records.end_in_exception)(self.worker, run_identifier, message)

    async def failed_too_often(self, run_identifier: str | None, error: Exception) -> bool:
        """Count a failure of the master's own for a run; after MAX_INTERNAL_FAILURES in a row
        the run ends `exception` (True), if the database lets it."""
        if run_identifier is None:
            return False
        failures = self.internal_failures.get(run_identifier, 0) + 1
        self.internal_failures[run_identifier] = failures
        if failures < MAX_INTERNAL_FAILURES:
            return False
        try:
            await self.end_in_exception(
                run_identifier,
                f"the master could not store what the worker sent, {failures} times in a row: "
                f"{error_text(error)}",
            )
        except Exception:
            logger.exception("ending run %s failed too", run_identifier)
            return False
        self.internal_failures.pop(run_identifier, None)
        return True
