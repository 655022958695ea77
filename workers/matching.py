"""Which worker may take which run: the default rule of the ORCHESTRA_WORKER_MATCHER point."""


def properties_match(job_properties: dict, worker_properties: dict) -> bool:
    """Every property the job asks for must be equal on the worker (compared as text)."""
    return all(
        key in worker_properties and str(worker_properties[key]) == str(value)
        for key, value in (job_properties or {}).items()
    )
