"""A configuration with mistakes, for tests/projects/test_master_start.py."""

from projects.definitions import Job, Project, Schedule, Step

projects = [
    Project(
        "broken",
        jobs=[Job("build", steps=[Step("compile", "make all")])],
        schedules=[Schedule("nightly", "build", "61 * * * *")],
    )
]
