"""The examples and one job more, declared as version 2 (tests/e2e/test_configuration_in_force.py)."""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Project, Step

version = 2

projects = [
    *example_projects,
    Project("upgrade", jobs=[Job("added-in-2", steps=[Step("say", ["echo", "version 2"])])]),
]
