"""What happens to runs, for the parties that react to it.

`runs.actions` sends these, inside the transaction of the change; it imports none of the
subscribers. A subscriber that must act only once the change is committed (a wake-up, a message
to a worker) registers `transaction.on_commit` itself; one that must change rows with the run
(a pipeline starting its elements) acts at once, in the same transaction.

Subscribers connect in their app's `ready()`: pipelines, retries, retention, notifications and
metrics (runs/apps.py), dispatch (workers/apps.py).
"""

from django.dispatch import Signal

# A run was created (`run`): pending for a worker, or a pipeline run that starts its elements.
run_triggered = Signal()
# Its worker started a claimed run (`run`, its `started` set).
run_started = Signal()
# A claimed run went back to the queue (`run`): its worker refused it or was lost.
run_released = Signal()
# A run reached a final status (`run`, with `status`, `worker_id` and `parent_id` as they were;
# `run.started` and `run.completed` as stored).
run_ended = Signal()
# Someone asked an active run to stop (`run`): its worker must be told, a pipeline its elements.
run_abort_requested = Signal()
