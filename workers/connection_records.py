"""What one worker connection reads and writes in the database: who connects, that the
connection lives, and the runs claimed for, offered to and started by its worker.

Synchronous functions: the connection's consumer (workers.consumers) calls each through
`database_sync_to_async`, one call per thing it does, since every call is a thread hop.
"""

import logging

from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from orchestra.audit import Actor
from orchestra.database import atomic, locked, retried_on_conflict, unique_row
from orchestra.models import Token
from orchestra.prepared import prepared
from orchestra.roles import CONNECT_WORKER
from orchestra.tokens import authenticate_token
from orchestra.values import InvalidValue, check_identifier, check_properties, check_text
from runs.actions import claim_runs, finish_run, release_run, start_run
from runs.models import Run, Status
from workers import sync
from workers.actions import claim_worker
from workers.dispatch import wake_worker, wakes_noted_for
from workers.models import Worker
from workers.refusals import (
    CLOSE_DISABLED, CLOSE_FORBIDDEN, CLOSE_IDENTIFIER_TAKEN, CLOSE_INVALID_HELLO,
    CLOSE_UNAUTHENTICATED, Refused,
)

logger = logging.getLogger(__name__)

# Runs one worker may execute at once: more than any machine runs, fewer than a column holds.
MAX_EXECUTORS = 1000


def authenticate(authorization: str) -> Token:
    """The token of an `Authorization: Bearer` header value, whose user may connect workers;
    Refused otherwise."""
    scheme, _, value = authorization.partition(" ")
    token = authenticate_token(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise Refused(CLOSE_UNAUTHENTICATED, "missing, unknown, expired or revoked token")
    if not token.user.has_perm(CONNECT_WORKER):
        raise Refused(
            CLOSE_FORBIDDEN, f"user {token.user.username} may not connect workers (role worker)"
        )
    return token


def still_authorised(token_id: int) -> bool:
    token = unique_row(Token.objects.select_related("user").filter(pk=token_id, revoked=None))
    return bool(
        token is not None
        and token.user.is_active
        and (token.expires is None or token.expires > timezone.now())
        and token.user.has_perm(CONNECT_WORKER)
    )


@retried_on_conflict
def register(user, message: dict, channel_name: str, address: str | None) -> tuple[Worker, str]:
    """The worker record for a connection's hello, and the channel of a connection it replaces.

    A hello whose values break the rules of every entry (orchestra.values) is refused for
    good (4007): the worker client stops and says why, and nothing is stored.
    """
    try:
        identifier = check_identifier(message.get("identifier"), "identifier")
        properties = check_properties(message.get("properties", {}), "properties")
        version = check_text(message.get("version", ""), "version", one_line=True,
                             max_length=Worker._meta.get_field("version").max_length)
    except InvalidValue as error:
        raise Refused(CLOSE_INVALID_HELLO, f"invalid hello: {error}")
    executors = message.get("executors", 1)
    if (
        isinstance(executors, bool) or not isinstance(executors, int)
        or not 0 < executors <= MAX_EXECUTORS
    ):
        raise Refused(
            CLOSE_INVALID_HELLO,
            f"invalid hello: executors: must be a whole number from 1 to {MAX_EXECUTORS}",
        )
    with atomic():
        worker, created = locked(Worker.objects.filter(identifier=identifier)).get_or_create(
            identifier=identifier, defaults={"owner": user}
        )
        # Its user was deleted: the identifier is free again for a worker-role user.
        if worker.owner_id is None:
            claim_worker(worker, Actor(user=user, address=address))
        if worker.owner_id != user.pk:
            raise Refused(
                CLOSE_IDENTIFIER_TAKEN,
                f"worker identifier {identifier!r} belongs to another user",
            )
        if not worker.is_enabled:
            raise Refused(CLOSE_DISABLED, f"worker {identifier!r} is disabled")
        previous_channel = worker.channel_name if worker.is_connected else ""
        worker.properties = properties
        worker.executors = executors
        worker.version = version
        worker.is_connected = True
        worker.channel_name = channel_name
        worker.save()
        # The database's clock, not this master's: every master compares with it.
        Worker.objects.filter(pk=worker.pk).update(last_seen=Now())
    return worker, previous_channel


@retried_on_conflict
def mark_disconnected(worker: Worker, channel_name: str, offered: set[str]) -> None:
    """The worker is gone, if this connection still stood for it; the runs claimed for it
    that this connection never offered go back to the queue (the worker cannot hold them).
    Runs it offered stay: the worker may have started them, and says so at its return."""
    with atomic():
        if not Worker.objects.filter(pk=worker.pk, channel_name=channel_name).update(
            is_connected=False, channel_name="", last_seen=Now()
        ):
            return
        for run in Run.objects.filter(worker=worker, status=Status.PENDING):
            if run.identifier not in offered:
                release_run(run, worker)


def refresh(worker: Worker, channel_name: str, token_id: int) -> bool:
    """The keep-alive, in one database call: False if the connection's token no longer lets
    it connect; otherwise `touch`, and True."""
    if not still_authorised(token_id):
        return False
    touch(worker, channel_name)
    return True


def touch(worker: Worker, channel_name: str) -> None:
    """This connection is alive: say so, and take the worker's row back if a liveness
    sweep (which saw a late refresh) marked it disconnected. A newer connection's row is
    left alone."""
    Worker.objects.filter(pk=worker.pk).filter(
        Q(channel_name=channel_name) | Q(is_connected=False)
    ).update(is_connected=True, channel_name=channel_name, last_seen=Now())


def claim_and_read_offers(worker: Worker, offered: set[str]) -> list[dict]:
    """Claim runs for the worker's free executors, then `claimed_run_requests`. A claim that
    fails changes nothing (the next wake-up or sweep tries again): what is claimed is still
    read."""
    try:
        claim_runs(worker)
    except Exception:
        logger.exception("claiming runs for worker %s failed", worker.identifier)
    return claimed_run_requests(worker, offered)


def apply_state_and_claim(worker: Worker, run_identifier: object, state: object,
                          offered: set[str]) -> tuple[dict, list[dict]]:
    """`sync.apply_state`, and when the report ended the run, `claim_and_read_offers` for the
    executor it freed, in the same call instead of through a wake-up (`wakes_noted_for`).

    Returns the report's answer and the run requests to offer. A report that fails after its
    run ended sends the wake-up it held back; a claim that fails leaves its runs to the sweep.
    """
    woken: list[int] = []
    try:
        with wakes_noted_for(worker.pk) as woken:
            answer = sync.apply_state(worker, run_identifier, state)
    except BaseException:
        if woken:
            wake_worker(worker.pk)
        raise
    if not woken:
        return answer, []
    try:
        return answer, claim_and_read_offers(worker, offered)
    except Exception:
        logger.exception("reading runs claimed for worker %s failed", worker.identifier)
        return answer, []


def claimed_run_requests(worker: Worker, offered: set[str]) -> list[dict]:
    """The requests of the runs claimed for the worker and not in `offered`, oldest first."""
    # No more runs are claimed for a worker than it has executors: those offered are left
    # out here rather than in the query, whose size would grow with them.
    return [
        sync.run_request(run) for run in runs_claimed_for.rows(worker.pk)
        if run.identifier not in offered
    ]


@prepared
def runs_claimed_for(worker_key: int) -> QuerySet:
    return (
        Run.objects.filter(worker_id=worker_key, status=Status.PENDING)
        .select_related("job", "project").only(*sync.RUN_REQUEST_FIELDS)
        .order_by("created", "id")
    )


def still_claimed(worker: Worker, run_identifiers: list[str]) -> set[str]:
    """Which of `run_identifiers` are claimed for the worker and not yet started."""
    return set(
        Run.objects.filter(identifier__in=run_identifiers, worker=worker, status=Status.PENDING)
        .values_list("identifier", flat=True)
    )


def confirm_started(worker: Worker, run_identifier: str) -> bool:
    """The worker holds the run now; True when it must be told to abort it."""
    # With its project, which the start's metrics label it by.
    run = run_to_start.first(run_identifier, worker.pk)
    if run is None:
        return False
    start_run(run, worker)
    return run.abort_requested


@prepared
def run_to_start(identifier: str, worker_key: int) -> QuerySet:
    return (
        Run.objects.filter(identifier=identifier, worker_id=worker_key)
        .select_related("project").order_by()[:1]
    )


def end_in_exception(worker: Worker, run_identifier: str, message: str) -> None:
    run = unique_row(Run.objects.filter(identifier=run_identifier, worker=worker))
    if run is not None:
        finish_run(run, Status.EXCEPTION, message, worker=worker)
