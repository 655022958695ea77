"""Run transformers: applied by the service to each run it returns (ORCHESTRA_RUN_TRANSFORMERS).

A transformer takes the run and its serialized data (a dict) and returns the dict to return.
It must not query the database per run: the run list calls it for every run of a page.
"""

from django.urls import reverse


def add_durations(run, data: dict) -> dict:
    """Add the run's and each step's duration in seconds (None while unknown)."""
    duration = run.duration
    data["duration_seconds"] = duration.total_seconds() if duration else None
    if "steps" in data:
        # Only the run page has steps, and it prefetches them: no query here.
        durations = {step.index: step.duration for step in run.steps.all()}
        for step in data["steps"]:
            step_duration = durations.get(step["index"])
            step["duration_seconds"] = step_duration.total_seconds() if step_duration else None
    return data


def add_links(run, data: dict) -> dict:
    """Add the paths of the run's page, archive and each step's log in the service."""
    identifier = run.identifier
    data["links"] = {
        "self": reverse("api-run", args=[identifier]),
        "archive": reverse("api-run-archive", args=[identifier]),
    }
    for step in data.get("steps", ()):
        step["log"] = reverse("api-run-step-log", args=[identifier, step["index"]])
    return data

