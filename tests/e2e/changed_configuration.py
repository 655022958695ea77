"""The examples and one job more, with no `version` (tests/e2e/test_configuration_in_force.py)."""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Project, Step

projects = [
    *example_projects,
    Project("changed", jobs=[Job("added", steps=[Step("say", ["echo", "changed"])])]),
]
