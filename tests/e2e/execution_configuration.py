"""The examples plus what tests/e2e/test_execution_model.py needs besides.

- a schedule on a job only a `pool=gated` worker takes: with no such worker connected, the
  scheduled run stays pending, so the test sees that the next tick does not start a second one;
- a pipeline whose first element runs until aborted, then one that would follow it.
"""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Element, Job, PipelineJob, Project, Schedule, Step

projects = [
    *example_projects,
    Project(
        "e2e",
        jobs=[
            Job(
                "gated",
                properties={"pool": "gated"},
                steps=[Step("greet", ["echo", "gated run on {worker}"])],
            ),
            Job("endless", steps=[Step("wait", ["sh", "-c", "echo started; exec sleep 600"])]),
            Job("after", steps=[Step("greet", ["echo", "never printed"])]),
            PipelineJob(
                "abortable",
                elements=[Element("first", "endless"), Element("second", "after", after=["first"])],
            ),
        ],
        schedules=[Schedule("every-minute", "gated", "* * * * *")],
    ),
]
