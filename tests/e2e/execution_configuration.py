"""The examples plus a schedule on a job only a `pool=gated` worker takes (tests/e2e/test_execution_model.py).

With no such worker connected, the scheduled run stays pending: the test sees that the next
tick does not start a second one, then starts the worker.
"""

from examples.configuration import projects as example_projects
from projects.definitions import Job, Project, Schedule, Step

projects = [
    *example_projects,
    Project(
        "e2e",
        jobs=[
            Job(
                "gated",
                properties={"pool": "gated"},
                steps=[Step("greet", ["echo", "gated run on {worker}"])],
            )
        ],
        schedules=[Schedule("every-minute", "gated", "* * * * *")],
    ),
]
