"""Validation of the configuration (projects, jobs, schedules, pipelines, resources) at master
start, one module a part of it; `validate_configuration` is the entry."""

from projects.validation.configuration import validate_configuration, validate_projects
from projects.validation.errors import ConfigurationError

__all__ = ["ConfigurationError", "validate_configuration", "validate_projects"]
