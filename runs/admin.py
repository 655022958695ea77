from django.contrib import admin

from orchestra.admin import admin_site
from orchestra.audit import Actor
from runs.actions import do_delete_runs, do_mark_run_exception
from runs.models import Run, RunStep


class RunStepInline(admin.TabularInline):
    model = RunStep
    extra = 0
    fields = ["index", "name", "status", "started", "completed", "log_size"]
    readonly_fields = fields


@admin.register(Run, site=admin_site)
class RunAdmin(admin.ModelAdmin):
    list_display = ["identifier", "project", "job", "status", "worker", "source", "created", "completed"]
    list_filter = ["status", "source", "project", "created"]
    search_fields = ["identifier", "job__identifier"]
    list_select_related = ["project", "job", "worker"]
    raw_id_fields = ["parent", "schedule", "triggered_by"]
    inlines = [RunStepInline]
    actions = ["mark_exception", "delete_with_logs"]

    # Runs change only through runs.actions (trigger, abort, mark exception, delete), which
    # audit them; Django's own deletion would leave the logs behind, unaudited.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Mark as exception (their worker is lost)")
    def mark_exception(self, request, queryset):
        actor = Actor.from_request(request)
        ended = sum(do_mark_run_exception(run, actor) for run in queryset.select_related("worker"))
        self.message_user(request, f"{ended} run(s) marked as exception.")

    @admin.action(description="Delete selected final runs, with their elements and logs")
    def delete_with_logs(self, request, queryset):
        deleted = do_delete_runs(queryset, Actor.from_request(request))
        self.message_user(
            request,
            f"{len(deleted)} run(s) deleted with their logs (active runs, and pipeline elements "
            "selected without their pipeline, are kept).",
        )
