"""Run transformers: applied by the service to each run it returns (ORCHESTRA_RUN_TRANSFORMERS).

A transformer takes the run and its serialized data (a dict) and returns the dict to return.
"""


def add_durations(run, data: dict) -> dict:
    """Add the run's and each step's duration in seconds (None while unknown)."""
    duration = run.duration
    data["duration_seconds"] = duration.total_seconds() if duration else None
    return data
