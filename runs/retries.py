"""Retries: a run that ended with a status its job retries runs again, as a new run linked to
it (`runs.actions.do_retry_run`).

A run is retried when its job has `retries` left for it, it ended with a status of the job's
`retry_on` (`failed`, `exception`), and it had been given to a worker: a run aborted, or asked
to abort, is never retried, nor one that never reached a worker (cancelled while it waited, a
pipeline element that could not start). The retry is created in the transaction that ended
the run, so a master that dies right after loses none.
"""

from runs.actions import do_retry_run
from runs.models import Run, Status


def retry_if_its_job_says_so(sender, run: Run, status: str, worker_id: int | None,
                             **kwargs) -> Run | None:
    """`run_ended`: create the run's retry when its job asks for one."""
    job = run.job
    if not job.retries or status not in job.retry_on or status == Status.ABORTED:
        return None
    if worker_id is None or not job.can_be_triggered:
        return None
    ended = Run.objects.select_related("job", "parent", "schedule", "triggered_by").get(pk=run.pk)
    if ended.abort_requested or ended.attempt > job.retries:
        return None
    return do_retry_run(ended)
