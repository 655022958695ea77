"""The classes a configuration module uses to describe projects, jobs and schedules.

They only hold what the user wrote; `projects.configuration` validates them (so an error can
name the project, job and field) and writes them to the database.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One command of a job: a list of arguments, each a Python format string."""

    name: str
    command: list[str]


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


@dataclass
class Job:
    """Steps run in order on one worker whose properties match `properties`."""

    identifier: str
    steps: list[Step] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    description: str = ""
    display_name: str = ""
    # False disables the job at every master start; True keeps what administrators chose.
    enabled: bool = True


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
    """A job whose run triggers its elements as child runs."""

    identifier: str
    elements: list[Element] = field(default_factory=list)
    description: str = ""
    display_name: str = ""
    enabled: bool = True


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
