"""The example projects, the `examples` project also mailing its failures to
ORCHESTRA_TEST_MAIL_TO (its webhook comes from the example's own variables)."""

import os
from dataclasses import replace

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Email

MAIL_TO = os.environ["ORCHESTRA_TEST_MAIL_TO"]

projects = [
    replace(project, notifications=[*project.notifications, Email([MAIL_TO])])
    if project.identifier == "examples" else project
    for project in example_projects
]
