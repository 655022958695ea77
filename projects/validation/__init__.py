"""Validation of the configuration (projects, jobs, schedules, pipelines, resources) at master
start, one module a part of it; `validate_configuration` is the entry.

What the single module `projects.validation` offered is still importable from here, so code
written against it keeps working; new code imports from the module that defines a name.
"""

from projects.validation.configuration import (
    MAX_REPOSITORY_LENGTH,
    validate_configuration,
    validate_projects,
)
from projects.validation.errors import ConfigurationError
from projects.validation.fields import LONGEST_TIMEOUT, MAX_DISPLAY_NAME_LENGTH
from projects.validation.jobs import DEFAULT_RETRY_ON, PRIORITY_RANGE, RETRYABLE_STATUSES
from projects.validation.parameters import RESERVED_NAMES
from projects.validation.pipelines import ANY_STATUS, PIPELINE_BOUNDS, final_statuses
from projects.validation.resources import validate_resources
from projects.validation.schedules import MAX_CRON_LENGTH
from projects.validation.steps import MAX_STEP_NAME_LENGTH, MAX_STEPS, MAX_STEPS_BYTES

__all__ = [
    "ANY_STATUS",
    "ConfigurationError",
    "DEFAULT_RETRY_ON",
    "LONGEST_TIMEOUT",
    "MAX_CRON_LENGTH",
    "MAX_DISPLAY_NAME_LENGTH",
    "MAX_REPOSITORY_LENGTH",
    "MAX_STEPS",
    "MAX_STEPS_BYTES",
    "MAX_STEP_NAME_LENGTH",
    "PIPELINE_BOUNDS",
    "PRIORITY_RANGE",
    "RESERVED_NAMES",
    "RETRYABLE_STATUSES",
    "final_statuses",
    "validate_configuration",
    "validate_projects",
    "validate_resources",
]
