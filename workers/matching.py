"""Which worker may take which run: the default rule of the ORCHESTRA_WORKER_MATCHER point.

A matcher is any function `(job_properties: dict, worker_properties: dict) -> bool`. Dispatch
calls it for every candidate run before claiming it, and the run page calls it to explain why a
run stays pending, so it must be fast and free of side effects. `examples/matching.py` shows a
replacement; point ORCHESTRA_WORKER_MATCHER at its dotted path to use it.
"""


def properties_match(job_properties: dict, worker_properties: dict) -> bool:
    """Every property the job asks for must be equal on the worker (compared as text)."""
    return all(
        key in worker_properties and str(worker_properties[key]) == str(value)
        for key, value in (job_properties or {}).items()
    )
