"""The classes a configuration module uses to describe projects, jobs and schedules.

They only hold what the user wrote; `projects.configuration` validates them (so an error can
name the project, job and field) and writes them to the database.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One command of a job: a list of arguments, each a Python format string.

    `timeout` (seconds) ends the step once it has run that long, `silence_timeout` (seconds)
    once it has printed nothing for that long; either ends the run `failed`. A step's own
    `silence_timeout` replaces its job's.
    """

    name: str
    command: list[str]
    timeout: float | None = None
    silence_timeout: float | None = None


@dataclass
class Parameter:
    """A value given when a run is triggered; `{name}` in step commands.

    `minimum` and `maximum` make it a number within them; `max_length`, text of at most that
    many characters. Both are checked at every trigger.
    """

    name: str
    description: str = ""
    default: Any = None
    required: bool = False
    minimum: int | float | None = None
    maximum: int | float | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Secret:
    """A named value the master reads at start from `environment` (a variable's name) or
    `file` (a path), never from the configuration module itself nor the database. A job that
    needs it names it in its `secrets`; while the master cannot read it, such a job stops the
    master from starting, or, when `required` is False, is disabled with the reason on its page.
    """

    identifier: str
    environment: str = ""
    file: str = ""
    required: bool = True


@dataclass
class Webhook:
    """At a run's end, POST a JSON description of it to `url`, signed with HMAC-SHA256 of the
    body under the secret the master reads from the environment variable `secret_variable`
    (header `X-Orchestra-Signature-256: sha256=<hex>`).

    `on` chooses which ends: "all", "failures" (failed or exception) or "changes" (a status
    other than the job's previous ended run's).
    """

    url: str
    secret_variable: str
    on: str = "failures"


@dataclass
class Email:
    """At a run's end, mail its description to the addresses `to` through the master's SMTP
    settings (ORCHESTRA_EMAIL_*); `on` as for `Webhook`."""

    to: list[str]
    on: str = "failures"


@dataclass
class Job:
    """Steps run in order on one worker whose properties match `properties`.

    Bounds (docs/configuration.md, "Bounding runs"):
    - `timeout`, `silence_timeout`: seconds the whole run may last, or a step stay silent;
    - `retries` runs again a run that ended with a status of `retry_on` (`failed`,
      `exception`), after `retry_delay` seconds, doubled at each attempt;
    - `max_concurrent_runs` (0: any number) and `resources` (names of `Resource`s, each held
      while a run of the job is on a worker) limit what runs at once; `priority` orders the
      queue (higher first), and a trigger may override it;
    - `keep_runs` (the last N finished runs) and `keep_days` bound how long runs and their
      logs are kept.

    `secrets` maps the environment variable each secret becomes in the steps to the `Secret`;
    the secret's value never appears in what the run shows or stores (`***` instead).
    """

    identifier: str
    steps: list[Step] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    description: str = ""
    display_name: str = ""
    # False disables the job at every master start; True keeps what administrators chose.
    enabled: bool = True
    timeout: float | None = None
    silence_timeout: float | None = None
    retries: int = 0
    retry_on: list[str] = field(default_factory=lambda: ["exception"])
    retry_delay: float = 0
    max_concurrent_runs: int = 0
    resources: list[str] = field(default_factory=list)
    priority: int = 0
    keep_runs: int | None = None
    keep_days: int | None = None
    secrets: dict[str, Secret] = field(default_factory=dict)
    # Told at each end of a run of this job, besides the project's (`Webhook`, `Email`).
    notifications: list[Webhook | Email] = field(default_factory=list)


@dataclass
class Element:
    """A job run as a child of a pipeline run once its dependency rules hold.

    `after` is either a list of element identifiers (each must have succeeded) or a dict
    {element: [statuses]} (that element must have ended with one of them; "any" stands for
    every final status).
    """

    identifier: str
    job: str
    parameters: dict[str, Any] = field(default_factory=dict)
    after: list[str] | dict[str, list[str]] = field(default_factory=list)


@dataclass
class PipelineJob:
    """A job whose run triggers its elements as child runs.

    Its elements are bounded by their own jobs; `keep_runs` and `keep_days` bound how long the
    pipeline's runs (and their elements with them) are kept.
    """

    identifier: str
    elements: list[Element] = field(default_factory=list)
    description: str = ""
    display_name: str = ""
    enabled: bool = True
    keep_runs: int | None = None
    keep_days: int | None = None
    notifications: list[Webhook | Email] = field(default_factory=list)


@dataclass
class Resource:
    """Something runs hold while they are on a worker, `capacity` runs at a time (a deploy
    target, a licence, a test database). Declared in the configuration module's `resources`
    list; jobs name it in their `resources`."""

    identifier: str
    capacity: int = 1


@dataclass
class Schedule:
    """Triggers `job` at each tick of the cron expression, one run at a time."""

    identifier: str
    job: str
    cron: str
    parameters: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    enabled: bool = True


@dataclass
class Hook:
    """Triggers `jobs` when a POST to /api/hooks/<project>/<identifier> is signed with the
    secret held by the environment variable `secret_variable` (docs/configuration.md, "Hooks").

    `jobs` maps each job to trigger to its parameters: {parameter name: path of a field of the
    JSON payload}, a path being keys and list indexes joined by dots (`head_commit.id`,
    `commits.0.id`).
    """

    identifier: str
    secret_variable: str
    jobs: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Project:
    identifier: str
    display_name: str = ""
    description: str = ""
    repository: str = ""
    # "git" or "github" (see ORCHESTRA_GIT_PROVIDER / ORCHESTRA_GITHUB_PROVIDER); used only
    # when `repository` is set.
    repository_provider: str = "git"
    jobs: list[Job | PipelineJob] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    # Told at each end of a run of any of its jobs (`Webhook`, `Email`).
    notifications: list[Webhook | Email] = field(default_factory=list)
