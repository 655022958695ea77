from django.contrib import admin

from orchestra.admin import admin_site
from orchestra.admin_actions import enable_disable_actions
from workers.actions import set_worker_enabled
from workers.models import Worker


@admin.register(Worker, site=admin_site)
class WorkerAdmin(admin.ModelAdmin):
    list_display = [
        "identifier", "owner", "version", "executors", "is_enabled", "is_connected", "inactive",
        "last_seen",
    ]
    list_filter = ["is_enabled", "is_connected"]
    search_fields = ["identifier"]
    # Enabled state changes through the audited actions, not field edits; what the worker
    # reports in its hello is shown, not edited: only the protocol's checks let it in.
    actions = enable_disable_actions(set_worker_enabled, "worker")
    readonly_fields = [
        "identifier", "properties", "version", "executors", "is_enabled", "is_connected",
        "channel_name", "last_seen",
    ]

    @admin.display(boolean=True, description="inactive")
    def inactive(self, worker: Worker) -> bool:
        """Away longer than ORCHESTRA_WORKER_INACTIVE_SECONDS: its runs may need marking."""
        return worker.is_inactive
