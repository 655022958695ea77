"""An example run transformer (ORCHESTRA_RUN_TRANSFORMERS): a value derived from results.

    ORCHESTRA_RUN_TRANSFORMERS=runs.transformers.add_durations,examples.transformers.add_pass_rate

A transformer receives the run and the dict the service is about to return, and returns the
dict. It runs for every run of a list page, so it must not query the database.
"""


def add_pass_rate(run, data: dict) -> dict:
    """`pass_rate` = results["passed"] / results["total"] for runs that report test counts."""
    results = run.results or {}
    passed, total = results.get("passed"), results.get("total")
    if isinstance(passed, (int, float)) and isinstance(total, (int, float)) and total > 0:
        data["pass_rate"] = round(passed / total, 4)
    else:
        data["pass_rate"] = None
    return data
