from django.contrib import admin

from orchestra.admin import admin_site
from workers.models import Worker


@admin.register(Worker, site=admin_site)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ["identifier", "owner", "version", "executors", "is_enabled", "is_connected", "last_seen"]
    list_filter = ["is_enabled", "is_connected"]
    search_fields = ["identifier"]
    list_editable = ["is_enabled"]
