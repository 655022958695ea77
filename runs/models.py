"""Runs of jobs and their steps, and their logs when the database log store keeps them
(runs/logstore.py; the default store keeps them on disk)."""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.urls import reverse


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    EXCEPTION = "exception"  # the orchestrator failed, not the job
    CANCELLED = "cancelled"  # never started
    SKIPPED = "skipped"  # a pipeline element whose dependency rules cannot hold


ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)
FINAL_STATUSES = tuple(status for status in Status if status not in ACTIVE_STATUSES)


def new_run_identifier() -> str:
    return uuid.uuid4().hex


class Run(models.Model):
    class Source(models.TextChoices):
        USER = "user"
        SCHEDULE = "schedule"
        PIPELINE = "pipeline"
        HOOK = "hook"

    identifier = models.CharField(max_length=32, unique=True, default=new_run_identifier)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="runs")
    job = models.ForeignKey("projects.Job", on_delete=models.CASCADE, related_name="runs")
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_message = models.TextField(blank=True)
    worker = models.ForeignKey(
        "workers.Worker", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.USER)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    schedule = models.ForeignKey(
        "projects.Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    hook = models.ForeignKey(
        "projects.Hook", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    pipeline_element = models.CharField(max_length=100, blank=True)
    results = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    completed = models.DateTimeField(null=True, blank=True)
    last_update = models.DateTimeField(auto_now=True)
    abort_requested = models.BooleanField(default=False)
    # Higher first in the queue: the job's, unless the trigger gave another.
    priority = models.IntegerField(default=0)
    # A retry runs the same job with the same parameters: attempt 2 is the first retry.
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="retries"
    )
    attempt = models.PositiveIntegerField(default=1)
    # A retry waits out its delay: no worker takes it before.
    not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "created"]),
            models.Index(fields=["job", "created"]),
            models.Index(fields=["project", "created"]),
            # Lists filtered by project or job and status: the count reads the index alone.
            models.Index(fields=["project", "status", "created"]),
            models.Index(fields=["job", "status", "created"]),
            models.Index(fields=["worker", "status"]),
            # A worker's runs that ended in the last day, for the workers page's strip.
            models.Index(fields=["worker", "completed"]),
            # The lists' default order (-created, -id), read from the index alone on a deep page.
            # Named: a generated name hashes the columns, and the key's is _id on MongoDB.
            models.Index(fields=["created", "id"], name="runs_run_created_d22f6a_idx"),
            # The other sortable columns of the runs list (project and job sort through the
            # indexes above; worker, a nullable join, and last_update, rewritten by every
            # save, have none).
            models.Index(fields=["source", "created"]),
            models.Index(fields=["started"]),
            models.Index(fields=["completed"]),
            # "Failures, most recently completed first": no sort of every failed run.
            models.Index(fields=["status", "completed"]),
            # A job's runs by worker: the sort reads this index alone, not 5,000 scattered rows.
            models.Index(fields=["job", "worker", "id"], name="runs_run_job_id_85586d_idx"),
            # The queue: waiting runs, highest priority, then oldest first.
            models.Index(fields=["status", "worker", "priority", "created"]),
        ]

    def __str__(self) -> str:
        return self.identifier

    def get_absolute_url(self) -> str:
        return reverse("run", args=[self.identifier])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self):
        if self.started and self.completed:
            return self.completed - self.started
        return None


class RunStep(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    started = models.DateTimeField(null=True, blank=True)
    completed = models.DateTimeField(null=True, blank=True)
    # Bytes of this step's log durably written on the master.
    log_size = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="step_unique_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.run.identifier}#{self.index} {self.name}"

    @classmethod
    def of_new_run(cls, run: Run) -> list["RunStep"]:
        """The steps of `run` as its creation makes them, one per step of its job, unsaved. They
        change only once the run starts: a pending run's steps are these."""
        # A run ended before it started has no step that ran: they were skipped or cancelled.
        status = run.status if run.status in (Status.PENDING, Status.SKIPPED) else Status.CANCELLED
        return [
            cls(run=run, index=index, name=step["name"], status=status)
            for index, step in enumerate(run.job.steps)
        ]

    @property
    def duration(self):
        if self.started and self.completed:
            return self.completed - self.started
        return None


class LogChunk(models.Model):
    """Bytes of a step's log from `offset` on, as runs.logstore.DatabaseLogStore keeps them.

    A step's chunks follow each other without gap nor overlap from offset 0; the unique
    offset is what lets two masters store the same chunk at once and keep it once.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    step_index = models.PositiveIntegerField()
    offset = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "step_index", "offset"],
                                    name="log_chunk_unique_offset")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.step_index}@{self.offset}"


class Resource(models.Model):
    """Something runs hold while they are on a worker, `capacity` at a time; written from the
    configuration at master start (projects.configuration)."""

    identifier = models.SlugField(max_length=100, unique=True)
    capacity = models.PositiveIntegerField(default=1)
    is_configured = models.BooleanField(default=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier


class IdempotencyKey(models.Model):
    """A key a user sent with a trigger, and the run that trigger created: the same key again
    answers that run instead of creating another (runs.idempotency.do_trigger_run_once).

    Unique per user, so that of two triggers with the same key, on any masters, only one can
    store it: the other gets the unique violation and answers the first one's run.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the request the key was first sent with: its job, parameters and priority.
    request = models.CharField(max_length=64)
    # Null once the run is deleted: the key still keeps its trigger from being made again.
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.user_id}"


def shown_recipient(kind: str, target: str) -> str:
    """Who a notification tells, as pages and the service show it: the e-mail addresses, or a
    webhook by its origin alone, since its path or query may hold a token (chat services'
    webhooks do)."""
    if kind == "webhook":
        address = urlsplit(target)
        port = f":{address.port}" if address.port else ""
        return f"{address.scheme}://{address.hostname}{port}/…"
    return ", ".join(target.split("\n"))


class NotificationDelivery(models.Model):
    """The outbox: one notification of a run's end to send, written in the transaction that
    ended the run (runs.notifications), so that a master that dies right after loses none.

    A master claims it for a while (`claim`, `claimed_until`) before sending, so that of
    several masters one sends it (runs.notification_delivery); each try is an attempt.
    """

    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # every attempt failed

    # Sent with each attempt, so that a receiver can tell a repetition from another delivery.
    identifier = models.CharField(max_length=32, unique=True, default=new_run_identifier)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Where to: the webhook's URL, or the e-mail addresses (one per line).
    target = models.TextField()
    # The environment variable holding a webhook's secret (the secret is never stored).
    secret_variable = models.CharField(max_length=200, blank=True)
    # What the notification says (runs.notifications.describe_end).
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField()
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    delivered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["state", "next_attempt"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.identifier} of {self.run_id}"

    @property
    def recipient(self) -> str:
        return shown_recipient(self.kind, self.target)


class NotificationAttempt(models.Model):
    """One try at sending a notification, and what came of it."""

    delivery = models.ForeignKey(
        NotificationDelivery, on_delete=models.CASCADE, related_name="attempt_set"
    )
    number = models.PositiveIntegerField()
    started = models.DateTimeField()
    finished = models.DateTimeField()
    # Which master sent it (orchestra.metrics.MASTER).
    master = models.CharField(max_length=300)
    succeeded = models.BooleanField()
    # The HTTP status a webhook answered, if it answered.
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_unique_per_delivery")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery}"
