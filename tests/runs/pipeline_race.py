"""Two "masters" (threads with their own connections) end b and c of a diamond at once.

Run by tests/runs/test_pipeline_race.py against a fresh database of each kind. Each round
triggers pipeline-diamond, ends a, then ends b and c concurrently (each end notifies the
pipeline, as workers.sync does), then ends d. Prints how often each element was started per round
and the pipelines' final statuses.
"""

import json

from tests.scenario import at_once, set_up_examples

ROUNDS = 8


def main() -> None:
    set_up_examples()
    from django.db import connection, transaction

    from orchestra.audit import SYSTEM
    from projects.models import Job
    from runs.actions import do_trigger_run, finish_run
    from runs.models import Run

    job = Job.objects.get(identifier="pipeline-diamond")

    def finish(pipeline, element: str) -> None:
        child = Run.objects.get(parent=pipeline, pipeline_element=element)
        with transaction.atomic():
            finish_run(child, "succeeded")

    report = {"starts": [], "statuses": []}
    for _ in range(ROUNDS):
        pipeline = do_trigger_run(job, {}, SYSTEM)
        finish(pipeline, "a")
        at_once(lambda: finish(pipeline, "b"), lambda: finish(pipeline, "c"))
        starts = {
            element: Run.objects.filter(parent=pipeline, pipeline_element=element).count()
            for element in "abcd"
        }
        report["starts"].append(starts)
        if starts["d"]:
            finish(pipeline, "d")
        pipeline.refresh_from_db()
        report["statuses"].append(pipeline.status)
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
