from django.contrib import admin

from orchestra.admin import admin_site
from orchestra.admin_actions import enable_disable_actions
from projects.actions import set_job_enabled, set_schedule_enabled
from projects.models import Job, Project, Schedule


@admin.register(Project, site=admin_site)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["identifier", "display_name", "repository", "is_configured"]
    list_filter = ["is_configured"]
    search_fields = ["identifier", "display_name"]
    # The configuration module sets these, through its checks, at every master start.
    readonly_fields = [
        "identifier", "display_name", "description", "repository", "repository_provider",
        "is_configured",
    ]


@admin.register(Job, site=admin_site)
class JobAdmin(admin.ModelAdmin):
    list_display = ["identifier", "project", "display_name", "is_enabled", "is_configured"]
    list_filter = ["project", "is_enabled", "is_configured"]
    search_fields = ["identifier", "display_name", "description"]
    # Enabled state changes through the audited actions, not field edits; the rest comes from
    # the configuration module, through its checks, at every master start.
    actions = enable_disable_actions(set_job_enabled, "job")
    readonly_fields = [
        "project", "identifier", "display_name", "description", "steps", "parameters",
        "properties", "pipeline", "is_enabled", "is_configured",
    ]


@admin.register(Schedule, site=admin_site)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["identifier", "project", "job", "expression", "timezone", "is_enabled", "last_tick"]
    list_filter = ["project", "is_enabled", "is_configured"]
    search_fields = ["identifier"]
    actions = enable_disable_actions(set_schedule_enabled, "schedule")
    readonly_fields = [
        "project", "identifier", "job", "expression", "timezone", "parameters", "is_enabled",
        "is_configured", "last_tick", "last_run",
    ]
