"""Projects group jobs, schedules and hooks; all come from the configuration module."""

from django.db import models
from django.urls import reverse


class Project(models.Model):
    identifier = models.SlugField(max_length=100, unique=True)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    repository = models.CharField(max_length=500, blank=True)
    repository_provider = models.CharField(max_length=50, blank=True)
    is_configured = models.BooleanField(
        default=True, help_text="False when the configuration no longer defines it."
    )
    # Told at the end of a run of any of its jobs (projects.notifications).
    notifications = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier

    def get_absolute_url(self) -> str:
        return reverse("project", args=[self.identifier])


def default_retry_on() -> list[str]:
    return ["exception"]


class Job(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    identifier = models.SlugField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # [{"name": str, "command": [str, ...]}]
    steps = models.JSONField(default=list, blank=True)
    # [{"name": str, "description": str, "default": any, "required": bool}]
    parameters = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    # {"elements": [{"identifier", "job", "parameters", "after": {element: [statuses]}}]}
    pipeline = models.JSONField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    is_configured = models.BooleanField(default=True)
    # Bounds (docs/configuration.md, "Bounding runs"); steps may carry their own timeouts.
    timeout = models.FloatField(null=True, blank=True, help_text="seconds a run may last")
    silence_timeout = models.FloatField(
        null=True, blank=True, help_text="seconds a step may print nothing"
    )
    retries = models.PositiveIntegerField(default=0)
    retry_on = models.JSONField(default=default_retry_on, blank=True)
    retry_delay = models.FloatField(default=0, help_text="seconds, doubled at each attempt")
    max_concurrent_runs = models.PositiveIntegerField(default=0, help_text="0: any number")
    # Identifiers of runs.Resource rows a run holds while it is on a worker.
    resources = models.JSONField(default=list, blank=True)
    priority = models.IntegerField(default=0)
    keep_runs = models.PositiveIntegerField(null=True, blank=True)
    keep_days = models.PositiveIntegerField(null=True, blank=True)
    # {environment variable: secret identifier}; the values are never stored (projects/secrets.py).
    secrets = models.JSONField(default=dict, blank=True)
    # Why the master disabled the job at its last start (a secret it could not read); while
    # set, the job cannot be enabled.
    disabled_reason = models.TextField(blank=True)
    # Told at the end of each of its runs, besides its project's (projects.notifications).
    notifications = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["project__identifier", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["project", "identifier"], name="job_unique_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.project.identifier}/{self.identifier}"

    def get_absolute_url(self) -> str:
        return reverse("job", args=[self.project.identifier, self.identifier])

    @property
    def is_pipeline(self) -> bool:
        return self.pipeline is not None

    @property
    def can_be_triggered(self) -> bool:
        return self.is_enabled and self.is_configured

    @property
    def has_run_limits(self) -> bool:
        """Whether a claim of its runs must count what else runs (docs/architecture.md)."""
        return bool(self.max_concurrent_runs or self.resources)


class Schedule(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schedules")
    identifier = models.SlugField(max_length=100)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="schedules")
    expression = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    parameters = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)
    is_configured = models.BooleanField(default=True)
    # The last tick a run was triggered for: a conditional update of this field is what lets
    # several masters agree that a tick fires once.
    last_tick = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project__identifier", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "identifier"], name="schedule_unique_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.identifier}/{self.identifier}"


# The name of the row of ConfigurationInForce.
IN_FORCE = "in force"


class ConfigurationInForce(models.Model):
    """Which configuration the projects, jobs and schedules in the database come from: one
    row, written by the master that last wrote its configuration
    (`projects.configuration_in_force`)."""

    # The one row is found by this unique name, not by a primary key a database would have
    # to accept as given (MongoDB's keys are ObjectIds): two masters creating it at once make
    # one row on every database.
    name = models.CharField(max_length=20, unique=True, default=IN_FORCE)
    # LoadedConfiguration.fingerprint; empty before any master wrote one.
    fingerprint = models.CharField(max_length=64, blank=True)
    # The `version` the configuration module declares, if any.
    version = models.PositiveBigIntegerField(null=True, blank=True)
    loaded = models.DateTimeField(null=True, blank=True)
    loaded_by = models.ForeignKey(
        "orchestra.Master", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "host:pid", kept once the registry forgot that master.
    loaded_by_name = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "configuration in force"

    def __str__(self) -> str:
        return f"configuration {self.fingerprint[:12] or '(none)'}"


class Hook(models.Model):
    """Triggers its jobs when a delivery signed with its secret arrives (projects.deliveries).

    The secret itself is never stored: only the name of the environment variable holding it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="hooks")
    identifier = models.SlugField(max_length=100)
    secret_variable = models.CharField(max_length=200)
    # {job identifier: {parameter name: payload path}} (projects.hooks)
    jobs = models.JSONField(default=dict)
    is_configured = models.BooleanField(default=True)

    class Meta:
        ordering = ["project__identifier", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["project", "identifier"], name="hook_unique_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.project.identifier}/{self.identifier}"


class HookDelivery(models.Model):
    """A delivery a hook received (its X-GitHub-Delivery) and the runs it triggered: the same
    delivery again answers those runs instead of triggering others.

    Unique per hook, so that of two deliveries with the same identifier, on any masters, only
    one can store it: the other gets the unique violation and answers the first one's runs.
    """

    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="deliveries")
    delivery = models.CharField(max_length=255)
    # SHA-256 of the body it came with: the same identifier with another body is refused.
    body_digest = models.CharField(max_length=64)
    # Identifiers, not foreign keys: the answer stays the same once runs are deleted.
    runs = models.JSONField(default=list)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hook", "delivery"], name="delivery_unique_per_hook")
        ]

    def __str__(self) -> str:
        return f"{self.delivery} of {self.hook_id}"
