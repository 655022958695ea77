"""Users' tokens, the audit log, and the authorizations roles are made of."""

import hashlib
import secrets

from django.conf import settings
from django.db import models


class Authorization(models.Model):
    """Carries the permissions that roles (Django groups) grant; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_orchestra", "See projects, jobs, runs, logs, workers and schedules"),
            ("trigger_run", "Trigger runs"),
            ("abort_run", "Abort runs"),
            ("download_archive", "Download run archives"),
            ("change_state", "Enable and disable jobs, schedules, workers and users"),
            ("view_users", "See users and tokens' metadata"),
            ("manage_users", "Create, change and delete users and their roles"),
            ("view_audit", "See the audit log"),
            ("connect_worker", "Connect to the master as a worker"),
            ("view_metrics", "Read the metrics (/metrics)"),
            ("view_masters", "See the master processes and the configuration in force"),
        ]


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Token(models.Model):
    """A secret that authenticates a user: shown once, stored only as its SHA-256."""

    class Kind(models.TextChoices):
        SESSION = "session"
        API = "api"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.API)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    description = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_refresh = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} token of {self.user} ({self.description or self.pk})"

    @classmethod
    def generate_value(cls) -> str:
        return secrets.token_hex(32)


class AuditEvent(models.Model):
    """One state change made by a person or a token: who, what, when, from where."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=300, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"


class LoginFailure(models.Model):
    """One failed login, counted per user name and per address to throttle guessing.

    Kept in the database (not in one process's memory) so that every master counts the same
    failures; rows older than the window are deleted as new failures arrive.
    """

    created = models.DateTimeField(db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.username} from {self.address}"


class Master(models.Model):
    """One `runmaster` process, recorded at its start (the registry, `orchestra.masters`).

    It refreshes `heartbeat` while it runs; one whose heartbeat is older than
    ORCHESTRA_MASTER_GONE_AFTER, or that recorded its stop, is gone. Times are the database's
    clock, so masters whose clocks differ agree.
    """

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    # The applications it serves, as `--serve` takes them ("website,service,master").
    serves = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    # The fingerprint of the configuration it loaded (`projects.configuration_in_force`);
    # empty for a process that does not serve the master, which loads none.
    fingerprint = models.CharField(max_length=64, blank=True)
    started = models.DateTimeField()
    heartbeat = models.DateTimeField()
    stopped = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        # As the metrics name a master (orchestra/metrics.py).
        return f"{self.host}:{self.pid}"

    @property
    def served_applications(self) -> list[str]:
        return self.serves.split(",")
