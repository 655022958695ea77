"""An example worker matcher: workers advertise a comma-separated list of labels.

Use it with `ORCHESTRA_WORKER_MATCHER=examples.matching.labels_match`. A worker started with
`--property labels=linux,gpu` takes jobs whose `label` property is `linux` or `gpu` (and jobs
without a `label`); every other job property must be equal on the worker, as in the default rule.
"""

from workers.matching import properties_match


def labels_match(job_properties: dict, worker_properties: dict) -> bool:
    job_properties = dict(job_properties or {})
    label = job_properties.pop("label", None)
    if label is not None:
        labels = {item.strip() for item in str(worker_properties.get("labels", "")).split(",")}
        if str(label) not in labels:
            return False
    return properties_match(job_properties, worker_properties)
