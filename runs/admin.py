from django.contrib import admin

from orchestra.admin import admin_site
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
