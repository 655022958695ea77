from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"

    def ready(self) -> None:
        from runs import signals
        from workers import dispatch, metrics  # noqa: F401 (metrics registers what it measures)

        signals.run_triggered.connect(dispatch.assign_run_when_committed, dispatch_uid="dispatch.new")
        signals.run_released.connect(dispatch.assign_run_when_committed, dispatch_uid="dispatch.released")
        signals.run_ended.connect(dispatch.wake_worker_when_committed, dispatch_uid="dispatch.ended")
        signals.run_abort_requested.connect(dispatch.send_abort_when_committed, dispatch_uid="dispatch.abort")
