from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"

    def ready(self) -> None:
        from runs import metrics, notifications, pipelines, retention, retries, signals

        signals.run_triggered.connect(pipelines.start_elements, dispatch_uid="pipelines.start")
        signals.run_abort_requested.connect(pipelines.abort_elements, dispatch_uid="pipelines.abort")
        signals.run_ended.connect(pipelines.element_ended, dispatch_uid="pipelines.ended")
        signals.run_ended.connect(retries.retry_if_its_job_says_so, dispatch_uid="retries.ended")
        signals.run_ended.connect(retention.keep_runs_when_committed, dispatch_uid="retention.ended")
        signals.run_ended.connect(notifications.queue_notifications, dispatch_uid="notifications.ended")
        signals.run_started.connect(metrics.observe_start, dispatch_uid="metrics.started")
        signals.run_ended.connect(metrics.observe_end, dispatch_uid="metrics.ended")
